// Boost.URL's implementation, compiled once for the whole program (Debian ships no libboost_url
// for 1.81 in libboost1.81-dev).
#include <boost/url/src.hpp>
