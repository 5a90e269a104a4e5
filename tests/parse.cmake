# Tests of the record parser (JSON -> COPY rows) and of gzip inflation.

# Where the sample data set lives unless LOADSTAR_SAMPLE_DIR says otherwise at run time. A test
# that needs it fails, and says where it looked, when it is missing.
set(LOADSTAR_SAMPLE_DIR "${PROJECT_SOURCE_DIR}/../shared/data/sparkify-sample"
    CACHE PATH "The Sparkify sample data set (song_data/, log_data/)")

loadstar_test(NAME loadstar_record_parser_test SOURCES unit/record_parser_test.cc LIBS loadstar_parse LABEL unit)
target_compile_definitions(loadstar_record_parser_test PRIVATE LOADSTAR_DEFAULT_SAMPLE_DIR="${LOADSTAR_SAMPLE_DIR}")

loadstar_test(NAME loadstar_record_parser_robustness_test SOURCES unit/record_parser_robustness_test.cc
              LIBS loadstar_parse LABEL unit)

loadstar_test(NAME loadstar_decompress_test SOURCES unit/decompress_test.cc LIBS loadstar_parse ZLIB::ZLIB LABEL unit)

