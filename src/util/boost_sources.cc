// The one translation unit that compiles Boost.JSON and Boost.URL, which are
// used header-only ("src.hpp" must be included exactly once per program).
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
