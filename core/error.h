// pg::Error: the one exception type of pixelgrad. Every message says what went wrong, where
// (the op, layer or file), what was expected and what was found, so a user can act on it.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace pg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Joins any streamable values into one string: str("conv2d: expected ", 4, "-D input").
template <typename... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Throws pg::Error with the joined message when the condition is false.
template <typename... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) throw Error(str(parts...));
}

}  // namespace pg
