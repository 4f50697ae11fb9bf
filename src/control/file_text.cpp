// SPDX-License-Identifier: BSD-3-Clause
#include "file_text.hpp"

#include <fstream>
#include <sys/stat.h>

namespace sipredir::control {

file_text read_file_text(const std::string& path, std::size_t max_bytes) {
    file_text r;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        r.error = "cannot be read";
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        r.error = "is not a regular file";
        return r;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        r.error = "cannot be read";
        return r;
    }
    std::string text(max_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got > max_bytes) {
        r.error = "is larger than " + std::to_string(max_bytes) + " bytes";
        return r;
    }
    text.resize(got);
    r.text = std::move(text);
    return r;
}

} // namespace sipredir::control
