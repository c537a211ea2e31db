#define BOOST_TEST_MODULE neurops_spectral
#include <boost/test/unit_test.hpp>
