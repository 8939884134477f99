/* errors.h: the Kafka error codes that broker/txn/ answers, and the per-version
 * mapping of PRODUCER_FENCED for old request versions.
 *
 * Every function of broker/txn/ that can fail returns an rb_kerr_t (int16, the
 * Kafka error code, 0 = NONE), so that a request handler can put it in the
 * response as is -- after passing it through rb_txn_error_for_version(),
 * which rewrites PRODUCER_FENCED (90) to INVALID_PRODUCER_EPOCH (47) for the
 * request versions that predate code 90 (KIP-588). Names are Kafka's, with an
 * RB_TXN_ prefix so that they never clash with the protocol codec's table. */
#ifndef RB_TXN_ERRORS_H
#define RB_TXN_ERRORS_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/log/log.h" /* rb_kerr_t */

enum {
    RB_TXN_ERR_NONE = 0,
    RB_TXN_ERR_UNKNOWN_SERVER_ERROR = -1,
    RB_TXN_ERR_CORRUPT_MESSAGE = 2,
    RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    RB_TXN_ERR_INVALID_REQUEST = 42,
    RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    RB_TXN_ERR_DUPLICATE_SEQUENCE_NUMBER = 46, /* never returned: duplicates answer NONE */
    RB_TXN_ERR_INVALID_PRODUCER_EPOCH = 47,
    RB_TXN_ERR_INVALID_TXN_STATE = 48,
    RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
    RB_TXN_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
    RB_TXN_ERR_CONCURRENT_TRANSACTIONS = 51,
    RB_TXN_ERR_TRANSACTION_COORDINATOR_FENCED = 52,
    RB_TXN_ERR_UNKNOWN_PRODUCER_ID = 59,
    RB_TXN_ERR_INVALID_RECORD = 87,
    RB_TXN_ERR_PRODUCER_FENCED = 90,
};

/* Kafka API keys whose answers rb_txn_error_for_version() knows about. */
enum {
    RB_TXN_API_PRODUCE = 0,
    RB_TXN_API_INIT_PRODUCER_ID = 22,
    RB_TXN_API_ADD_PARTITIONS_TO_TXN = 24,
    RB_TXN_API_ADD_OFFSETS_TO_TXN = 25,
    RB_TXN_API_END_TXN = 26,
    RB_TXN_API_TXN_OFFSET_COMMIT = 28,
};

/* The error to put in a response of api_key at api_version: PRODUCER_FENCED
 * becomes INVALID_PRODUCER_EPOCH for InitProducerId < v4, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn < v2, and for every Produce and TxnOffsetCommit
 * (whose clients treat 47 as fencing); anything else is returned unchanged. */
rb_kerr_t rb_txn_error_for_version(int16_t api_key, int16_t api_version, rb_kerr_t err);

#endif /* RB_TXN_ERRORS_H */
