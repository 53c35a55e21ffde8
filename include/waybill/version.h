/* waybill/version.h: the release version, printed by `waybill --version`. */
#ifndef WAYBILL_VERSION_H
#define WAYBILL_VERSION_H
#define WAYBILL_VERSION "0.1.0"
#endif
