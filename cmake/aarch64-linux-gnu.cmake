# Cross-compiling octet for 64-bit ARM Linux with Debian's aarch64-linux-gnu-g++.
# OCTET_ARM64_SYSROOT holds Debian's arm64 packages unpacked with dpkg -x (scripts/arm64.sh makes
# it); tests run under qemu-aarch64-static through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT OCTET_ARM64_SYSROOT)
  set(OCTET_ARM64_SYSROOT $ENV{OCTET_ARM64_SYSROOT})
endif()
set(_lib ${OCTET_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu)
# Target libraries come from the unpacked packages first, then the cross toolchain's own.
set(CMAKE_FIND_ROOT_PATH ${OCTET_ARM64_SYSROOT} /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)   # nlohmann_json: arch-independent config
# Headers: the sysroot's, then the host's header-only libraries (nlohmann, doctest, CLI11, stb).
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_CXX_FLAGS_INIT "-isystem ${OCTET_ARM64_SYSROOT}/usr/include")
set(CMAKE_C_FLAGS_INIT "-isystem ${OCTET_ARM64_SYSROOT}/usr/include")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${_lib} -Wl,-rpath-link,${_lib}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-L${_lib} -Wl,-rpath-link,${_lib}")

find_program(_qemu qemu-aarch64-static)
if(_qemu)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_qemu};-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=${_lib})
endif()
