// Debian's libsecp256k1-dev: the core API and the recoverable-signature module that Ethereum
// signatures (r, s, v) need.
#include <secp256k1.h>
#include <secp256k1_recovery.h>
