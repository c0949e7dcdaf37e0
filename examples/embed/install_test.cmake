# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DMODEL=... -P install_test.cmake
# Installs octet's build into a scratch prefix, builds examples/embed against it with
# find_package(octet), and runs it: the path an application outside the tree takes.
set(prefix ${BUILD_DIR}/install_test/prefix)
set(app ${BUILD_DIR}/install_test/app)
file(REMOVE_RECURSE ${BUILD_DIR}/install_test)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${app} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${app})
# The application must not need the converter's libraries (ONNX, protobuf).
file(GET_RUNTIME_DEPENDENCIES EXECUTABLES ${app}/octet_embed RESOLVED_DEPENDENCIES_VAR deps
     DIRECTORIES ${prefix}/lib ${prefix}/lib64)
foreach(d ${deps})
  if(d MATCHES "onnx|protobuf")
    message(FATAL_ERROR "the installed runtime drags in ${d}")
  endif()
endforeach()
run(${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib ${app}/octet_embed ${MODEL})
message(STATUS "${last_out}")
