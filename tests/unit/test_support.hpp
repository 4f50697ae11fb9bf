// SPDX-License-Identifier: BSD-3-Clause
// Test helpers: the project's test data, and copies of inputs that end at a PROT_NONE page.
#pragma once

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

namespace sipredir::test {

inline std::filesystem::path data_dir() {
    return SIPREDIR_TEST_DATA;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open " + p.string());
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A copy of `bytes` whose last byte is immediately followed by an inaccessible page, as
// picohttpparser's tests do: any read past the end faults.
class guarded_copy {
public:
    explicit guarded_copy(std::string_view bytes) {
        const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        const std::size_t data_pages = (bytes.size() + page - 1) / page + 1;
        _size = (data_pages + 1) * page;
        _base = static_cast<char*>(
                mmap(nullptr, _size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        );
        if (_base == MAP_FAILED) {
            throw std::runtime_error("mmap failed");
        }
        char* guard = _base + data_pages * page;
        if (mprotect(guard, page, PROT_NONE) != 0) {
            throw std::runtime_error("mprotect failed");
        }
        _data = guard - bytes.size();
        std::memcpy(_data, bytes.data(), bytes.size());
        _view = std::string_view(_data, bytes.size());
    }
    guarded_copy(const guarded_copy&) = delete;
    guarded_copy& operator=(const guarded_copy&) = delete;
    ~guarded_copy() { munmap(_base, _size); }

    std::string_view view() const { return _view; }

private:
    char* _base = nullptr;
    std::size_t _size = 0;
    char* _data = nullptr;
    std::string_view _view;
};

} // namespace sipredir::test
