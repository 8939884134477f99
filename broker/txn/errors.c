/* errors.c: the per-version rewrite of PRODUCER_FENCED (see errors.h). */
#include "config.h"

#include "broker/txn/errors.h"

rb_kerr_t rb_txn_error_for_version(int16_t api_key, int16_t api_version, rb_kerr_t err)
{
    if (err != RB_TXN_ERR_PRODUCER_FENCED)
        return err;
    bool old;
    switch (api_key) {
    case RB_TXN_API_INIT_PRODUCER_ID:
        old = api_version < 4;
        break;
    case RB_TXN_API_ADD_PARTITIONS_TO_TXN:
    case RB_TXN_API_ADD_OFFSETS_TO_TXN:
    case RB_TXN_API_END_TXN:
        old = api_version < 2;
        break;
    case RB_TXN_API_PRODUCE:
    case RB_TXN_API_TXN_OFFSET_COMMIT:
        old = true;
        break;
    default:
        old = false;
        break;
    }
    return old ? RB_TXN_ERR_INVALID_PRODUCER_EPOCH : err;
}
