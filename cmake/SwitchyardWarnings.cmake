# Compiler flags shared by every Switchyard target: sy_set_flags(target).
add_library(sy_flags INTERFACE)
target_compile_options(sy_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-unknown-pragmas>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${SY_WERROR}>>:-Werror>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${SY_NATIVE}>>:-march=native>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CONFIG:Release>>:-O3>)
if(SY_SANITIZE)
  target_compile_options(sy_flags INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined>)
  target_link_options(sy_flags INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(sy_flags INTERFACE ${PROJECT_SOURCE_DIR})
