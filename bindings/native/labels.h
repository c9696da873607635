// Class-label files: `index,name` per line (imagenet-labels.txt: names may
// themselves contain commas) or one name per line.
#pragma once
#include <string>
#include <vector>

#include "engine/core/status.h"

namespace glint::native {

// If every non-empty line starts with digits and a comma, the file is indexed:
// label[index] = rest of the line (gaps stay empty; a repeated index is an
// error). Otherwise each line is a name in order (trailing empty lines
// dropped). Handles CRLF and a UTF-8 BOM. kIoError when unreadable,
// kInvalidArgument when empty or inconsistent.
Result<std::vector<std::string>> parse_labels(const std::string& text, const std::string& source = "labels");
Result<std::vector<std::string>> load_labels(const std::string& path);

}  // namespace glint::native
