"""Generates Sources/NtstatWire/Generated/LayoutTables.swift from the derived layouts.

Input: Tests/NtstatWireTests/Fixtures/layouts/<tag>.json (numbers derived by derive.sh).
Output: one Swift enum of fields per C struct, and one table per family per struct.
Run: python3 Tests/Tools/layouts/generate-tables.py > Sources/NtstatWire/Generated/LayoutTables.swift
"""
import json, os, re, sys

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..')
FIXTURES = os.path.join(ROOT, 'Tests', 'NtstatWireTests', 'Fixtures', 'layouts')

# Family case name -> the tag whose layout the table is built from (every other tag of the family
# is checked against the same table by the tests).
FAMILIES = [
    ('xnu1699', 'xnu-1699.32.7'), ('xnu2050', 'xnu-2050.48.11'), ('xnu2422', 'xnu-2422.115.4'),
    ('xnu2782', 'xnu-2782.40.9'), ('xnu3247', 'xnu-3248.60.10'), ('xnu3789', 'xnu-3789.70.16'),
    ('xnu4570', 'xnu-4903.241.1'), ('xnu6153', 'xnu-6153.141.1'), ('xnu7195', 'xnu-7195.141.2'),
    ('xnu8019_41', 'xnu-8019.41.5'), ('xnu8019_61', 'xnu-8796.141.3'), ('xnu10002', 'xnu-10063.141.1'),
    ('xnu11215', 'xnu-11417.121.6'), ('xnu12377', 'xnu-12377'),
]

# C structs named without the `nstat_` prefix (they come from bsd/netinet/in_stat.h).
UNPREFIXED = {'traffic_stats', 'media_stats'}

def cname(c):
    return c if c in UNPREFIXED else 'nstat_' + c

# Swift layout name, C struct(s) it describes, and (Swift field, C field path) pairs.
SPECS = [
    ('Counts', ['counts'], [
        ('rxPackets', 'nstat_rxpackets'), ('rxBytes', 'nstat_rxbytes'), ('txPackets', 'nstat_txpackets'),
        ('txBytes', 'nstat_txbytes'), ('cellRxBytes', 'nstat_cell_rxbytes'), ('cellTxBytes', 'nstat_cell_txbytes'),
        ('wifiRxBytes', 'nstat_wifi_rxbytes'), ('wifiTxBytes', 'nstat_wifi_txbytes'),
        ('wiredRxBytes', 'nstat_wired_rxbytes'), ('wiredTxBytes', 'nstat_wired_txbytes'),
        ('rxDuplicateBytes', 'nstat_rxduplicatebytes'), ('rxOutOfOrderBytes', 'nstat_rxoutoforderbytes'),
        ('txRetransmit', 'nstat_txretransmit'), ('connectAttempts', 'nstat_connectattempts'),
        ('connectSuccesses', 'nstat_connectsuccesses'), ('minRTT', 'nstat_min_rtt'), ('avgRTT', 'nstat_avg_rtt'),
        ('varRTT', 'nstat_var_rtt')]),
    ('ErrorMessage', ['msg_error'], [('error', 'error'), ('reserved', 'reserved')]),
    ('AddSourceMessage', ['msg_add_src'], [('provider', 'provider'), ('reserved', 'reserved'), ('parameters', 'param')]),
    ('AddAllSourcesMessage', ['msg_add_all_srcs'], [
        ('filter', 'filter'), ('events', 'events'), ('provider', 'provider'), ('targetPID', 'target_pid'),
        ('targetUUID', 'target_uuid')]),
    ('SourceAddedMessage', ['msg_src_added'], [('sourceRef', 'srcref'), ('provider', 'provider'), ('reserved', 'reserved')]),
    ('SourceRefMessage', ['msg_rem_src', 'msg_query_src', 'msg_get_src_description', 'msg_src_removed'],
     [('sourceRef', 'srcref')]),
    ('SetFilterMessage', ['msg_set_filter'], [('sourceRef', 'srcref'), ('filter', 'filter'), ('reserved', 'reserved')]),
    ('SourceDescriptionMessage', ['msg_src_description'], [
        ('sourceRef', 'srcref'), ('eventFlags', 'event_flags'), ('provider', 'provider'), ('reserved', 'reserved'),
        ('data', 'data')]),
    ('SourceCountsMessage', ['msg_src_counts'], [('sourceRef', 'srcref'), ('eventFlags', 'event_flags'), ('counts', 'counts')]),
    ('SourceUpdateMessage', ['msg_src_update'], [
        ('sourceRef', 'srcref'), ('eventFlags', 'event_flags'), ('counts', 'counts'), ('provider', 'provider'),
        ('reserved', 'reserved'), ('data', 'data')]),
    ('TrafficStats', ['traffic_stats'], [
        ('rxPackets', 'ts_rxpackets'), ('rxBytes', 'ts_rxbytes'), ('txPackets', 'ts_txpackets'),
        ('txBytes', 'ts_txbytes'), ('activityBitmap', 'ts_bitmap')]),
    ('MediaStats', ['media_stats'], [
        ('total', 'ms_total'), ('cellular', 'ms_cellular'), ('wifiInfra', 'ms_wifi_infra'),
        ('wifiNonInfra', 'ms_wifi_non_infra'), ('wired', 'ms_wired'), ('bluetooth', 'ms_bluetooth'),
        ('alternate', 'ms_alternate')]),
    ('DetailedCounts', ['detailed_counts'], [
        ('mediaStats', 'nstat_media_stats'), ('rxDuplicateBytes', 'nstat_rxduplicatebytes'),
        ('rxOutOfOrderBytes', 'nstat_rxoutoforderbytes'), ('txRetransmit', 'nstat_txretransmit'),
        ('minRTT', 'nstat_min_rtt'), ('avgRTT', 'nstat_avg_rtt'), ('varRTT', 'nstat_var_rtt'),
        ('extraFlags', 'nstat_xtra_flags'), ('extraUUID', 'nstat_xtra_uuid')]),
    ('SourceDetailsMessage', ['msg_src_details'], [
        ('sourceRef', 'srcref'), ('eventFlags', 'event_flags'), ('detailedCounts', 'detailed_counts'),
        ('provider', 'provider'), ('reserved', 'reserved'), ('data', 'data')]),
    ('SysinfoCountsMessage', ['msg_sysinfo_counts'], [('sourceRef', 'srcref'), ('counts', 'counts')]),
    ('SysinfoCountsHeader', ['sysinfo_counts'], [('length', 'nstat_sysinfo_len'), ('pad', 'pad'), ('keyvals', 'nstat_sysinfo_keyvals')]),
    ('SysinfoKeyValue', ['sysinfo_keyval'], [
        ('key', 'nstat_sysinfo_key'), ('flags', 'nstat_sysinfo_flags'), ('value', 'u'),
        ('valueSize', 'nstat_sysinfo_valsize'), ('reserved', 'reserved')]),
    ('TCPDescriptor', ['tcp_descriptor'], [
        ('upid', 'upid'), ('eupid', 'eupid'), ('startTimestamp', 'start_timestamp'), ('timestamp', 'timestamp'),
        ('rxTransferSize', 'rx_transfer_size'), ('txTransferSize', 'tx_transfer_size'),
        ('activityBitmap', 'activity_bitmap'), ('ifindex', 'ifindex'), ('state', 'state'),
        ('sendBufferSize', 'sndbufsize'), ('sendBufferUsed', 'sndbufused'), ('receiveBufferSize', 'rcvbufsize'),
        ('receiveBufferUsed', 'rcvbufused'), ('txUnacked', 'txunacked'), ('txWindow', 'txwindow'),
        ('txCongestionWindow', 'txcwindow'), ('trafficClass', 'traffic_class'),
        ('trafficManagementFlags', 'traffic_mgt_flags'), ('pid', 'pid'), ('epid', 'epid'), ('local', 'local'),
        ('remote', 'remote'), ('congestionAlgorithm', 'cc_algo'), ('processName', 'pname'), ('uuid', 'uuid'),
        ('euuid', 'euuid'), ('vuuid', 'vuuid'), ('fuuid', 'fuuid'), ('personaID', 'persona_id'), ('uid', 'uid'),
        ('connectionStatus', 'connstatus'), ('interfaceProperties', 'ifnet_properties'),
        ('fallbackMode', 'fallback_mode'), ('reserved', 'reserved')]),
    ('UDPDescriptor', ['udp_descriptor'], [
        ('upid', 'upid'), ('eupid', 'eupid'), ('startTimestamp', 'start_timestamp'), ('timestamp', 'timestamp'),
        ('activityBitmap', 'activity_bitmap'), ('local', 'local'), ('remote', 'remote'), ('ifindex', 'ifindex'),
        ('receiveBufferSize', 'rcvbufsize'), ('receiveBufferUsed', 'rcvbufused'), ('trafficClass', 'traffic_class'),
        ('pid', 'pid'), ('processName', 'pname'), ('epid', 'epid'), ('uuid', 'uuid'), ('euuid', 'euuid'),
        ('vuuid', 'vuuid'), ('fuuid', 'fuuid'), ('personaID', 'persona_id'), ('uid', 'uid'),
        ('interfaceProperties', 'ifnet_properties'), ('fallbackMode', 'fallback_mode'), ('reserved', 'reserved')]),
    ('RouteDescriptor', ['route_descriptor'], [
        ('id', 'id'), ('parentID', 'parent_id'), ('gatewayID', 'gateway_id'), ('destination', 'dst'),
        ('mask', 'mask'), ('gateway', 'gateway'), ('ifindex', 'ifindex'), ('flags', 'flags'), ('reserved', 'reserved')]),
    ('InterfaceDescriptor', ['ifnet_descriptor'], [
        ('threshold', 'threshold'), ('ifindex', 'ifindex'), ('linkStatus', 'link_status'), ('type', 'type'),
        ('description', 'description'), ('name', 'name'), ('reserved', 'reserved')]),
    ('ConnectionDescriptor', ['connection_descriptor'], [
        ('startTimestamp', 'start_timestamp'), ('timestamp', 'timestamp'), ('upid', 'upid'), ('eupid', 'eupid'),
        ('pid', 'pid'), ('epid', 'epid'), ('interfaceProperties', 'ifnet_properties'), ('processName', 'pname'),
        ('uuid', 'uuid'), ('euuid', 'euuid'), ('cuuid', 'cuuid'), ('puuid', 'puuid'), ('fuuid', 'fuuid'),
        ('personaID', 'persona_id'), ('uid', 'uid'), ('reserved', 'reserved')]),
    ('DomainInfo', ['domain_info'], [
        ('domainName', 'domain_name'), ('domainOwner', 'domain_owner'), ('trackerContext', 'domain_tracker_ctxt'),
        ('attributedBundleID', 'domain_attributed_bundle_id'), ('remote', 'remote'), ('isTracker', 'is_tracker'),
        ('isNonAppInitiated', 'is_non_app_initiated'), ('isSilent', 'is_silent'), ('reserved', 'reserved')]),
    ('InterfaceCounts', ['interface_counts'], [
        ('rxPackets', 'nstat_rxpackets'), ('rxBytes', 'nstat_rxbytes'), ('txPackets', 'nstat_txpackets'),
        ('txBytes', 'nstat_txbytes')]),
    ('SysinfoDescriptor', ['sysinfo_descriptor'], [('flags', 'flags')]),
    ('RouteAddParameters', ['route_add_param'], [('destination', 'dst'), ('mask', 'mask'), ('ifindex', 'ifindex')]),
    ('TCPAddParameters', ['tcp_add_param'], [('local', 'local'), ('remote', 'remote')]),
    ('InterfaceAddParameters', ['ifnet_add_param'], [('threshold', 'threshold'), ('ifindex', 'ifindex'), ('reserved', 'reserved')]),
    ('SysinfoAddParameters', ['sysinfo_add_param'], [('flags', 'flags')]),
]

FIXED = {'u_int64_t': 8, 'uint64_t': 8, 'int64_t': 8, 'double': 8, 'nstat_event_flags_t': 8, 'u_int32_t': 4,
         'uint32_t': 4, 'nstat_provider_id_t': 4, 'pid_t': 4, 'uid_t': 4, 'unsigned int': 4, 'u_int16_t': 2,
         'uint16_t': 2, 'u_int8_t': 1, 'uint8_t': 1, 'bool': 1, 'uuid_t': 16, 'activity_bitmap_t': 24, 'struct activity_bitmap': 24,
         'struct tcp_conn_status': 4, 'traffic_stats_t': 56, 'struct traffic_stats': 56, 'struct media_stats': 392, 'struct nstat_counts': None, 'nstat_counts': None, 'nstat_sysinfo_counts': 8, 'struct nstat_sysinfo_counts': 8,
         'struct nstat_ifnet_desc_link_status': 84, 'nstat_ifnet_desc_link_status': 84}

def width(ctype, path, struct, record, tag_major, structs):
    if ctype == 'nstat_src_ref_t':
        return 8 if tag_major >= 3789 else 4
    if ctype in ('struct nstat_counts', 'nstat_counts'):
        return structs['nstat_counts']['size']
    if ctype in ('struct nstat_detailed_counts', 'nstat_detailed_counts'):
        return structs['nstat_detailed_counts']['size']
    m = re.match(r'^(?:char|u_int8_t|uint8_t|unsigned char)\[(\d*)\]$', ctype)
    if m:
        return int(m.group(1) or 0)
    if ctype.startswith('union'):
        if struct == 'sysinfo_keyval':
            return record['size'] - 8 - (8 if 'nstat_sysinfo_valsize' in record['fields'] else 0)
        return 28  # the sockaddr_in / sockaddr_in6 unions
    if ctype.startswith('struct sockaddr') or ctype == 'nstat_sysinfo_keyval[]':
        return 0 if ctype.endswith('[]') else 28
    if ctype in FIXED and FIXED[ctype] is not None:
        return FIXED[ctype]
    raise SystemExit(f'no width for {ctype} ({struct}.{path})')

def main():
    loaded = {tag: json.load(open(os.path.join(FIXTURES, tag + '.json')))['structs'] for _, tag in FAMILIES}
    out = ['// GENERATED by Tests/Tools/layouts/generate-tables.py from the layouts derived by',
           '// Tests/Tools/layouts/derive.sh (Tests/NtstatWireTests/Fixtures/layouts). Do not edit by hand.', '']
    for name, cstructs, fields in SPECS:
        enum = name + 'Field'
        out.append(f'/// Fields of `{cname(cstructs[0])}`' + (f' (also {", ".join("`" + cname(c) + "`" for c in cstructs[1:])})' if len(cstructs) > 1 else '') + '.')
        out.append(f'public enum {enum}: Int, LayoutField {{')
        out.append('  ' + '\n  '.join(f'case {f}' for f, _ in fields))
        out.append(f'  public static let cStructNames = [{", ".join(json.dumps(cname(c)) for c in cstructs)}]')
        out.append(f'  public static let cFieldPaths = [{", ".join(json.dumps(c) for _, c in fields)}]')
        out.append('}')
        out.append('')
    out.append('extension FamilyLayouts {')
    for case, tag in FAMILIES:
        structs = loaded[tag]
        major = int(tag.split('-')[1].split('.')[0])
        source = json.load(open(os.path.join(FIXTURES, tag + '.json'))).get('source')
        origin = f' ({source["repository"]}@{source["commit"][:12]}, not an Apple tag)' if source else ''
        out.append(f'  /// Layouts compiled from `{tag}`{origin}.')
        out.append(f'  static let {case} = FamilyLayouts(')
        args = []
        for name, cstructs, fields in SPECS:
            record = structs.get(cname(cstructs[0]))
            prop = re.sub(r'^[A-Z]+(?=[A-Z][a-z])|^[A-Z]', lambda m: m.group(0).lower(), name)
            if record is None:
                args.append(f'    {prop}: nil')
                continue
            slots = []
            for swift_name, cpath in fields:
                if cpath in record['fields']:
                    offset, ctype = record['fields'][cpath][:2]
                    slots.append(f'.init({offset}, {width(ctype, cpath, cstructs[0], record, major, structs)})')
                else:
                    slots.append('nil')
            covered = [False] * record['size']
            for swift_name, cpath in fields:
                if cpath in record['fields']:
                    offset, ctype = record['fields'][cpath][:2]
                    for i in range(offset, min(record['size'], offset + width(ctype, cpath, cstructs[0], record, major, structs))):
                        covered[i] = True
            holes = [i for i, c in enumerate(covered) if not c and i >= (16 if cstructs[0].startswith('msg_') else 0)]
            runs = []
            for i in holes:
                if runs and runs[-1][0] + runs[-1][1] == i:
                    runs[-1][1] += 1
                else:
                    runs.append([i, 1])
            hole_text = f', holes: [{", ".join(f".init({o}, {w})" for o, w in runs)}]' if runs else ''
            args.append(f'    {prop}: StructLayout(size: {record["size"]}, slots: [{", ".join(slots)}]{hole_text})')
        out.append(',\n'.join(args))
        out.append('  )')
    out.append('}')
    print('\n'.join(out))

main()
