// The JSON module: parsing every kind, strictness (duplicates, trailing text, NaN, depth), the
// parse options (integers only, depth), error positions, UTF-8 checks, and a writer that matches
// Python's json.dumps(indent=2, sort_keys=True).
#include "trainer/common/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/cli/export_command.h"

namespace sy::trainer {
namespace {

using ::testing::AllOf;
using testing::error_message;
using ::testing::HasSubstr;

TEST(Json, ParsesEveryKind) {
  const Json j = parse_json(
      R"({"i": -12, "d": 1.5e-3, "big": 1e300, "s": "a\"\u00e9\ud83d\ude42", "t": true,
          "f": false, "n": null, "a": [1, [2]], "o": {"x": {}}, "huge": 99999999999999999999,
          "exact": 9007199254740993})",
      "x.json");
  EXPECT_EQ(j.find("i")->as_int(), -12);
  EXPECT_EQ(j.find("d")->kind(), Json::Kind::kDouble);
  EXPECT_DOUBLE_EQ(j.find("d")->as_double(), 1.5e-3);
  EXPECT_EQ(j.find("s")->as_string(), "a\"\xC3\xA9\xF0\x9F\x99\x82");
  EXPECT_TRUE(j.find("t")->as_bool());
  EXPECT_FALSE(j.find("f")->as_bool());
  EXPECT_TRUE(j.find("n")->is_null());
  EXPECT_EQ(j.find("a")->items().at(1).items().at(0).as_int(), 2);
  EXPECT_EQ(j.find("o")->find("x")->kind(), Json::Kind::kObject);
  EXPECT_EQ(j.find("huge")->kind(), Json::Kind::kDouble);        // beyond int64
  EXPECT_EQ(j.find("exact")->as_int(), (int64_t{1} << 53) + 1);  // not rounded through a double
  EXPECT_EQ(j.find("missing"), nullptr);
}

TEST(Json, RejectsMalformedText) {
  const std::pair<const char*, const char*> cases[] = {
      {"{\"a\": 1, \"a\": 2}", "duplicate key \"a\""},
      {"{\"a\": 1} x", "unexpected text"},
      {"{\"a\": NaN}", "unexpected character"},
      {"{\"a\": 01}", "leading zero"},
      {"{\"a\": 1.}", "expected a digit"},
      {"{\"a\": \"\x01\"}", "control character"},
      {"{\"a\": \"\\x\"}", "bad escape"},
      {"{\"a\": \"\\ud800\"}", "surrogate"},
      {"{\"a\": 1e999}", "out of range"},
      {"{\"a\": [1, 2}", "expected ','"},
      {"", "unexpected end"},
  };
  for (const auto& [text, what] : cases) {
    EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { parse_json(text, "f.json"); }),
                AllOf(HasSubstr("f.json: bad JSON at line 1"), HasSubstr(what)))
        << text;
  }
  std::string deep(100, '[');
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { parse_json(deep, "d.json"); }),
              HasSubstr("nested too deeply"));
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { parse_json("{\n\n  \"a\" 1}", "p"); }),
              HasSubstr("line 3, column 7"));
}

TEST(Json, OptionsDemandIntegersAndLimitDepth) {
  JsonParseOptions options;
  options.integers_only = true;
  options.max_depth = 2;
  const std::optional<Json> ok = try_parse_json("[1, [-9223372036854775808]]", options, nullptr);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->items().at(1).items().at(0).as_int(), INT64_MIN);
  struct Case {
    const char* text;
    const char* what;
    size_t offset;
  };
  const Case cases[] = {
      {"[1.5]", "numbers must be integers", 2},
      {"[1e3]", "numbers must be integers", 2},
      {"[9223372036854775808]", "integer out of range", 1},
      {"[[[1]]]", "nested too deeply", 3},
  };
  for (const Case& c : cases) {
    JsonSyntaxError error;
    EXPECT_FALSE(try_parse_json(c.text, options, &error).has_value()) << c.text;
    EXPECT_EQ(error.what, c.what) << c.text;
    EXPECT_EQ(error.offset, c.offset) << c.text;
  }
  JsonSyntaxError error;
  EXPECT_FALSE(try_parse_json("{\n \"a\": tru}", {}, &error).has_value());
  EXPECT_EQ(error.offset, 8u);
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.column, 7);
  EXPECT_EQ(error.what, "unexpected character");
}

TEST(Json, FindsInvalidUtf8) {
  EXPECT_EQ(find_invalid_utf8("plain caf\xC3\xA9 \xF0\x9F\x99\x82"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);            // not a lead byte
  EXPECT_EQ(find_invalid_utf8("a\xC3"), 1u);             // truncated
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);          // overlong
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);     // a surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(quote_json_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(Json, WritesLikePythonJsonDumpsIndent2SortKeys) {
  Json j = Json::object();
  j.set("z", Json::number(10000.0))
      .set("a", Json::array({Json::string("x\n\"y\""), Json::integer(-3)}))
      .set("m", Json::object().set("k", Json::boolean(false)).set("e", Json()))
      .set("eps", Json::number(1e-5))
      .set("empty", Json::array())
      .set("o", Json::object());
  EXPECT_EQ(write_json(j),
            "{\n"
            "  \"a\": [\n"
            "    \"x\\n\\\"y\\\"\",\n"
            "    -3\n"
            "  ],\n"
            "  \"empty\": [],\n"
            "  \"eps\": 1e-05,\n"
            "  \"m\": {\n"
            "    \"e\": null,\n"
            "    \"k\": false\n"
            "  },\n"
            "  \"o\": {},\n"
            "  \"z\": 10000.0\n"
            "}\n");
  EXPECT_EQ(format_json_double(0.1), "0.1");
  EXPECT_EQ(format_json_double(1e16), "1e+16");
  EXPECT_EQ(format_json_double(-2.0), "-2.0");
  // Round trip: doubles come back exactly.
  for (const double v : {0.1, 1.0 / 3.0, 1e-300, 123456789.123456789, 5e-324}) {
    EXPECT_EQ(parse_json(format_json_double(v), "r").as_double(), v);
  }
  Json back = parse_json(write_json(j), "w");
  EXPECT_EQ(write_json(back), write_json(j));
  EXPECT_TRUE(back.erase("z"));
  EXPECT_FALSE(back.erase("z"));
}

TEST(ExportCommand, ParsesByteSizes) {
  EXPECT_EQ(parse_byte_size("5GB"), 5000000000u);
  EXPECT_EQ(parse_byte_size("100kb"), 100000u);
  EXPECT_EQ(parse_byte_size("2MiB"), 2u << 20);
  EXPECT_EQ(parse_byte_size("1234"), 1234u);
  EXPECT_EQ(parse_byte_size("7B"), 7u);
  for (const char* bad : {"", "GB", "0", "-1GB", "5TB", "1.5GB", "99999999999GiB"}) {
    EXPECT_THAT(error_message(ErrorKind::kUsage, [&] { parse_byte_size(bad); }),
                HasSubstr("--max-shard-size"))
        << bad;
  }
}

}  // namespace
}  // namespace sy::trainer
