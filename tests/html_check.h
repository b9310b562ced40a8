// Checks of generated HTML shared by the report tests: well-formed markup and no external
// references (a self-contained page fetches nothing).
#pragma once

#include <cctype>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace hwnas::testing_html {

// A strict check of the markup: every non-void element closed in order, attributes quoted, script
// and style bodies skipped. Returns "" or what is wrong.
inline std::string markup_error(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
  std::vector<std::string> open;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 9, "<!DOCTYPE") == 0) {
      i = html.find('>', i);
      continue;
    }
    const std::size_t end = html.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = html.substr(i + 1, end - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (closing) tag.erase(0, 1);
    const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return "bad tag '" + tag + "'";
    if (!closing) {
      // Attributes: name="value" pairs only.
      const std::string attrs = tag.substr(name.size());
      static const std::regex kAttrs(R"(^(\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*="[^"<>]*")*\s*/?$)");
      if (!std::regex_match(attrs, kAttrs)) return "bad attributes in <" + tag + ">";
    }
    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? "" : open.back()) + ">";
      open.pop_back();
    } else if (!self_closing && kVoid.count(name) == 0) {
      open.push_back(name);
      if (name == "script" || name == "style") {
        const std::size_t close = html.find("</" + name + ">", end);
        if (close == std::string::npos) return "unclosed <" + name + ">";
        i = close;
        continue;
      }
    }
    i = end + 1;
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

// Anything a browser would fetch: URLs, imports, external sources.
inline bool has_external_reference(const std::string& html) {
  static const std::regex kExternal(R"((https?:|ftp:|file:|//[a-z]|\bsrc=|<link|@import|url\())", std::regex::icase);
  return std::regex_search(html, kExternal);
}

}  // namespace hwnas::testing_html
