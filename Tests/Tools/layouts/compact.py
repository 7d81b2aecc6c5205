"""Keeps the structs the codec uses, with the offset and C type of each field path."""
import json, re, sys

KEEP = re.compile(r'^struct (traffic_stats|media_stats|nstat_(counts|detailed_counts|msg_src_details|msg_hdr|msg_error|msg_add_src|msg_add_all_srcs|msg_src_added|'
                  r'msg_rem_src|msg_query_src|msg_get_src_description|msg_set_filter|msg_src_description|'
                  r'msg_src_counts|msg_src_update|msg_src_removed|msg_sysinfo_counts|sysinfo_counts|sysinfo_keyval|'
                  r'tcp_descriptor|udp_descriptor|route_descriptor|ifnet_descriptor|ifnet_desc_link_status|'
                  r'ifnet_desc_cellular_status|ifnet_desc_wifi_status|connection_descriptor|domain_info|'
                  r'interface_counts|msg_src_extended_item_hdr|sysinfo_descriptor|sysinfo_add_param|'
                  r'route_add_param|tcp_add_param|ifnet_add_param))$')
SOCKADDR_INSIDE = re.compile(r'\.(v4|v6|sa)(\.|$)')

def main(path, tag, source=None):
    data = json.load(open(path))
    structs = {}
    for name, record in sorted(data.items()):
        m = KEEP.match(name)
        if not m:
            continue
        fields = {}
        for field in record['fields']:
            p = field['path']
            if SOCKADDR_INSIDE.search(p) or p.count('.') > 1:
                continue
            fields[p] = [field['offset'], field['type']] + ([field['bits']] if 'bits' in field else [])
        structs[m.group(1)] = {'size': record['size'], 'align': record['align'], 'fields': fields}
    document = {'tag': tag, 'targets': ['x86_64-apple-macos10.9', 'arm64-apple-macos11'], 'structs': structs}
    if source:
        # A tree that is not an Apple tag: say where the header came from.
        repository, commit, note = source.split(' ', 2)
        document['source'] = {'repository': repository, 'commit': commit, 'apple_tag': False, 'note': note}
    print(json.dumps(document, indent=1, sort_keys=True))

main(*sys.argv[1:4])
