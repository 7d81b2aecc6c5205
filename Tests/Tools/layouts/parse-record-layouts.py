import re, sys, json
def parse(path):
    out = {}
    cur = None; stack = []
    for line in open(path):
        if line.startswith('*** Dumping AST Record Layout'):
            cur = None; stack = []; continue
        m = re.match(r'\s*(\d+)(?::(\d+)-(\d+))? \| (\s*)(.*)$', line)
        if m:
            off = int(m.group(1)); indent = len(m.group(4)); text = m.group(5).strip()
            if cur is None:
                name = text
                if name in out or 'unnamed' in name or 'anonymous' in name:
                    cur = {'skip': True}; continue
                cur = {'fields': [], 'name': name}; out[name] = cur; stack = []; continue
            if cur.get('skip'): continue
            level = indent // 2
            if re.search(r'\((unnamed|anonymous) at [^)]*\)$', text):
                ftype, fname = text, ''
            else:
                parts = text.rsplit(' ', 1)
                ftype, fname = (parts[0], parts[1]) if len(parts) == 2 else (text, '')
            stack = stack[:level-1] + [fname]
            path_ = '.'.join(s for s in stack if s)
            entry = {'path': path_, 'offset': off, 'type': re.sub(r' at [^)]*\)', ')', ftype)}
            if m.group(2): entry['bits'] = [int(m.group(2)), int(m.group(3))]
            cur['fields'].append(entry)
            continue
        m = re.match(r'\s*\| \[sizeof=(\d+), (?:dsize=\d+, )?align=(\d+)', line)
        if m and cur is not None and not cur.get('skip'):
            cur['size'] = int(m.group(1)); cur['align'] = int(m.group(2))
    for v in out.values(): v.pop('name', None)
    return {k: v for k, v in out.items() if k.startswith(('struct nstat', 'struct traffic_stats', 'struct media_stats', 'union'))}
print(json.dumps(parse(sys.argv[1]), indent=1, sort_keys=True))
