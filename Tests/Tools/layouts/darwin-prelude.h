/* Darwin stand-ins for compiling ntstat.h's PRIVATE section (scratch; not part of the project) */
typedef unsigned char u_int8_t; typedef unsigned short u_int16_t; typedef unsigned int u_int32_t; typedef unsigned long long u_int64_t;
typedef unsigned char uint8_t; typedef unsigned short uint16_t; typedef unsigned int uint32_t; typedef unsigned long long uint64_t;
typedef long long int64_t; typedef int pid_t; typedef unsigned int uid_t;
typedef _Bool bool;
typedef unsigned char uuid_t[16];
typedef unsigned char sa_family_t; typedef unsigned short in_port_t;
struct in_addr { unsigned int s_addr; };
struct in6_addr { union { unsigned char b[16]; unsigned short s[8]; unsigned int w[4]; } u; };
struct sockaddr { unsigned char sa_len; sa_family_t sa_family; char sa_data[14]; };
struct sockaddr_in { unsigned char sin_len; sa_family_t sin_family; in_port_t sin_port; struct in_addr sin_addr; char sin_zero[8]; };
struct sockaddr_in6 { unsigned char sin6_len; sa_family_t sin6_family; in_port_t sin6_port; unsigned int sin6_flowinfo; struct in6_addr sin6_addr; unsigned int sin6_scope_id; };
#define IFNAMSIZ 16
typedef struct activity_bitmap { uint64_t start; uint64_t bitmap[2]; } activity_bitmap_t;
struct tcp_conn_status { unsigned int probe_activated:1; unsigned int write_probe_failed:1; unsigned int read_probe_failed:1; unsigned int conn_probe_failed:1; };
#define __header_indexable
#define __counted_by(x)
#define __sized_by(x)
#define NULL ((void*)0)
