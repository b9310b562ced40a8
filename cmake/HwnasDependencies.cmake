# Every third-party library comes from Debian packages (see tools/deps.sh for the list).
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(SQLite3 REQUIRED)
find_package(dnnl CONFIG REQUIRED)
find_package(OpenMP REQUIRED)
find_package(Threads REQUIRED)
find_package(JPEG REQUIRED)  # libjpeg62-turbo-dev: images for hwnas run
find_package(PNG REQUIRED)   # libpng-dev
find_package(Protobuf REQUIRED)  # libprotobuf-dev, for ONNX's generated classes
find_package(ONNX REQUIRED)      # libonnx-dev: ONNX export (ModelProto, checker, shape inference)
if(HWNAS_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
