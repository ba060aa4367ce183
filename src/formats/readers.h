// The source readers' constructors, one per format (galsync/source_reader.h
// is the interface; SourceReader::Create picks one of these).
#pragma once

#include <memory>

#include "galsync/source_reader.h"

namespace galsync::formats {

Result<std::unique_ptr<SourceReader>> NewCsvReader(SourceOptions options);
std::unique_ptr<SourceReader> NewVCardReader(SourceOptions options);
std::unique_ptr<SourceReader> NewLdifReader(SourceOptions options);
std::unique_ptr<SourceReader> NewJsonLinesReader(SourceOptions options);

}  // namespace galsync::formats
