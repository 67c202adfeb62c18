// Boost.JSON's implementation, compiled once for the whole program (header-only mode: the
// library is in libboost1.81-dev's headers; its compiled form is a separate Debian package).
// parse_json_document uses its parser.
#include <boost/json/src.hpp>
