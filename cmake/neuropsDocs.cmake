# The API reference: `cmake --build build --target docs` runs Doxygen over the public headers and
# the Markdown pages (README.md as the main page, docs/*.md), writing HTML to build/docs/html.
# Warnings are errors, so a broken reference or a malformed comment fails the build (and the `docs`
# CTest, which CI runs).
include_guard(GLOBAL)
find_package(Doxygen)
if(NOT DOXYGEN_FOUND)
  message(STATUS "neurops: Doxygen not found, no `docs` target (Debian package: doxygen)")
  return()
endif()
set(DOXYGEN_PROJECT_NAME neurops)
set(DOXYGEN_PROJECT_BRIEF "${PROJECT_DESCRIPTION}")
set(DOXYGEN_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/docs)
set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/README.md)
set(DOXYGEN_EXTRACT_ALL YES)           # every public declaration is listed, documented or not
set(DOXYGEN_EXTRACT_STATIC YES)
set(DOXYGEN_EXCLUDE_SYMBOLS detail "*::detail::*")
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR})
set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_FULL_PATH_NAMES YES)
set(DOXYGEN_GENERATE_TREEVIEW YES)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_QUIET YES)
set(DOXYGEN_WARN_IF_UNDOCUMENTED NO)   # EXTRACT_ALL lists them; warnings are kept for real mistakes
set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
set(DOXYGEN_WARN_LOGFILE ${CMAKE_BINARY_DIR}/docs/warnings.log)
set(DOXYGEN_MACRO_EXPANSION YES)
set(DOXYGEN_EXCLUDE_PATTERNS "*/detail/*")
doxygen_add_docs(docs ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs
                 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                 COMMENT "API reference (Doxygen) in ${CMAKE_BINARY_DIR}/docs/html")
