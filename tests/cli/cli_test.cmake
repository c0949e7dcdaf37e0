# CLI checks run by CTest (tests/CMakeLists.txt):
#   cmake -DOCTET=<octet binary> -DMODE=<mode> -DWORK=<scratch dir> [-DMODELS=<tests/models>] -P cli_test.cmake
# Modes:
#   missing_model    `octet run` on a nonexistent model: exit != 0, exactly one stderr line naming it.
#   convert_missing  `octet convert` of a nonexistent .onnx: the same, and no output files written.
#   mlp              convert tests/models/mlp to int8 (its calib/), run it on input.npy writing
#                    out/output.npy, inspect it.
cmake_minimum_required(VERSION 3.20)
foreach(v OCTET MODE WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "cli_test.cmake: -D${v}=... is required")
  endif()
endforeach()
get_filename_component(OCTET "${OCTET}" ABSOLUTE)
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")   # empty for native builds
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# Runs the octet binary with ARGN; sets rc, out, err in the caller.
function(octet_run)
  execute_process(COMMAND ${EMULATOR} "${OCTET}" ${ARGN} WORKING_DIRECTORY "${WORK}"
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  set(rc "${_rc}" PARENT_SCOPE)
  set(out "${_out}" PARENT_SCOPE)
  set(err "${_err}" PARENT_SCOPE)
endfunction()

function(expect_ok what)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: exit status ${rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
endfunction()

# Non-zero exit and exactly one non-empty line on stderr that contains `needle`.
function(expect_one_line_error what needle)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${what}: succeeded, expected a failure\nstdout:\n${out}")
  endif()
  string(REGEX REPLACE "\n$" "" _trimmed "${err}")
  string(REGEX MATCHALL "\n" _newlines "${_trimmed}")
  list(LENGTH _newlines _n)
  if(_trimmed STREQUAL "" OR NOT _n EQUAL 0)
    message(FATAL_ERROR "${what}: expected exactly one line on stderr, got:\n${err}")
  endif()
  string(FIND "${_trimmed}" "${needle}" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "${what}: stderr does not mention '${needle}':\n${err}")
  endif()
  message(STATUS "${what}: exit ${rc}, stderr: ${_trimmed}")
endfunction()

if(MODE STREQUAL "missing_model")
  file(WRITE "${WORK}/x.npy" "")
  octet_run(run nonexistent.json -i x.npy)
  expect_one_line_error("octet run nonexistent.json" "nonexistent.json")

elseif(MODE STREQUAL "convert_missing")
  octet_run(convert nonexistent.onnx -o "${WORK}/out/m.json" --precision float)
  expect_one_line_error("octet convert nonexistent.onnx" "nonexistent.onnx")
  file(MAKE_DIRECTORY "${WORK}/out")
  octet_run(convert nonexistent.onnx -o "${WORK}/out/m.json" --precision float)
  expect_one_line_error("octet convert nonexistent.onnx (existing output dir)" "nonexistent.onnx")
  file(GLOB_RECURSE _left "${WORK}/out/*")
  if(_left)
    message(FATAL_ERROR "a failed convert left files behind: ${_left}")
  endif()

elseif(MODE STREQUAL "mlp")
  if(NOT DEFINED MODELS)
    message(FATAL_ERROR "mode mlp needs -DMODELS=<tests/models>")
  endif()
  set(_m "${MODELS}/mlp")
  octet_run(convert "${_m}/model.onnx" -o "${WORK}/mlp.json" --calib "${_m}/calib")
  expect_ok("octet convert mlp")
  foreach(f mlp.json mlp.bin)
    if(NOT EXISTS "${WORK}/${f}")
      message(FATAL_ERROR "octet convert did not write ${f}")
    endif()
  endforeach()
  if(NOT out MATCHES "int8_static")
    message(FATAL_ERROR "octet convert summary does not mention int8 nodes:\n${out}")
  endif()

  octet_run(run "${WORK}/mlp.json" -i "${_m}/input.npy" -o "${WORK}/out")
  expect_ok("octet run mlp")
  if(NOT out MATCHES "output: f32 \\[2,10\\]")
    message(FATAL_ERROR "octet run did not print the output summary:\n${out}")
  endif()
  if(NOT EXISTS "${WORK}/out/output.npy")
    message(FATAL_ERROR "octet run did not write out/output.npy")
  endif()
  # float32 [2,10] -> 80 data bytes after a 64- or 128-byte .npy header.
  file(SIZE "${WORK}/out/output.npy" _size)
  if(NOT (_size EQUAL 144 OR _size EQUAL 208))
    message(FATAL_ERROR "out/output.npy has ${_size} bytes, expected a [2,10] float32 array")
  endif()
  file(READ "${WORK}/out/output.npy" _magic LIMIT 6 HEX)
  if(NOT _magic STREQUAL "934e554d5059")
    message(FATAL_ERROR "out/output.npy is not a .npy file")
  endif()

  octet_run(inspect "${WORK}/mlp.json")
  expect_ok("octet inspect mlp")
  foreach(word "input" "output" "int8_static")
    string(FIND "${out}" "${word}" _pos)
    if(_pos EQUAL -1)
      message(FATAL_ERROR "octet inspect output does not mention '${word}':\n${out}")
    endif()
  endforeach()

  # Running the model on an input of the wrong width fails with one line naming the input.
  file(COPY "${MODELS}/tiny_resnet/input.npy" DESTINATION "${WORK}/wrong")
  octet_run(run "${WORK}/mlp.json" -i "${WORK}/wrong/input.npy")
  expect_one_line_error("octet run mlp on a tiny_resnet input" "input.npy")

else()
  message(FATAL_ERROR "cli_test.cmake: unknown MODE '${MODE}'")
endif()
