/// The hand-written Lua of `ntstat.lua` that walks the generated tables: the decoder, which
/// mirrors `MessageDecoder` and the JSON field tree of `ntstat cat --json`, and the Wireshark
/// side (fields, family selection, tree, Info column). Kept here as text so that the
/// dissector is one self-contained command's output, with no resource files to install.
enum DissectorSource {
  static let decoder = #"""
    -- The decoder: the same steps as NtstatWire's MessageDecoder and the same fields, names and
    -- order as `ntstat cat --json` (FieldTree.swift), so that every key of a message's JSON is a
    -- field here. Reads go through the tvb (Wireshark's Lua 5.2 has no 64-bit integers; UInt64
    -- and Int64 carry them). A malformed message raises a table {offset, reason}, caught per
    -- datagram and shown as expert info; a Lua error of our own is caught the same way.

    local MESSAGE_TYPES = {
      [0] = "SUCCESS", [1] = "ERROR", [1001] = "ADD_SRC", [1002] = "ADD_ALL_SRCS", [1003] = "REM_SRC",
      [1004] = "QUERY_SRC", [1005] = "GET_SRC_DESC", [1006] = "SET_FILTER", [1007] = "GET_UPDATE",
      [1008] = "SUBSCRIBE_SYSINFO", [1009] = "GET_DETAILS", [10001] = "SRC_ADDED", [10002] = "SRC_REMOVED",
      [10003] = "SRC_DESC", [10004] = "SRC_COUNTS", [10005] = "SYSINFO_COUNTS", [10006] = "SRC_UPDATE",
      [10007] = "SRC_EXTENDED_UPDATE", [10008] = "SRC_DETAILS", [10009] = "SRC_EXTENDED_DETAILS",
    }
    local TCP_STATES = {
      [0] = "CLOSED", [1] = "LISTEN", [2] = "SYN_SENT", [3] = "SYN_RECEIVED", [4] = "ESTABLISHED",
      [5] = "CLOSE_WAIT", [6] = "FIN_WAIT_1", [7] = "CLOSING", [8] = "LAST_ACK", [9] = "FIN_WAIT_2",
      [10] = "TIME_WAIT",
    }
    local ITEM_TYPES = {
      [0] = "UNKNOWN", [1] = "DOMAIN", [2] = "NECP_TLV", [3] = "ORIGINAL_NECP_TLV", [4] = "ORIGINAL_DOMAIN",
      [5] = "FUUID", [6] = "BLUETOOTH_COUNTS",
    }
    local ERRNO_NAMES = {
      [1] = "EPERM", [2] = "ENOENT", [12] = "ENOMEM", [22] = "EINVAL", [35] = "EAGAIN", [37] = "EALREADY",
      [45] = "ENOTSUP", [47] = "EAFNOSUPPORT", [55] = "ENOBUFS", [102] = "EOPNOTSUPP",
    }
    local MESSAGE_FLAGS = {
      { 0x1, "SUPPORTS_AGGREGATE" }, { 0x2, "CONTINUATION" }, { 0x4, "CLOSING" }, { 0x8, "CLOSED_AFTER_DROP" },
      { 0x10, "CLOSED_AFTER_FILTER" }, { 0x40, "CLOSED_AFTER_GONE" },
    }
    local IFNET_PROPERTIES = {
      { 0x1, "UNKNOWN" }, { 0x2, "LOOPBACK" }, { 0x4, "CELLULAR" }, { 0x8, "WIFI" }, { 0x10, "WIRED" },
      { 0x20, "AWDL" }, { 0x40, "EXPENSIVE" }, { 0x80, "VPN" }, { 0x100, "CELLFALLBACK" },
      { 0x200, "COMPANIONLINK" }, { 0x400, "CONSTRAINED" }, { 0x800, "LOCAL" }, { 0x1000, "NON_LOCAL" },
      { 0x8000, "LLW" }, { 0x10000, "WIFI_INFRA" }, { 0x20000, "PEER_EGRESS_CELL" },
      { 0x40000, "COMPANIONLINK_BT" }, { 0x80000, "ULTRA_CONSTRAINED" }, { 0x1000000, "NET_ACCESS" },
      { 0x2000000, "LISTENER" }, { 0x4000000, "INBOUND" }, { 0x8000000, "OUTBOUND" },
    }
    local MEDIA = { "total", "cellular", "wifi_infra", "wifi_non_infra", "wired", "bluetooth", "alternate" }
    local MEDIA_FIELDS = { "total", "cellular", "wifiInfra", "wifiNonInfra", "wired", "bluetooth", "alternate" }
    local DESCRIPTOR_KINDS = {
      route = "route", tcp = "tcp", ["tcp-userland"] = "tcp", quic = "tcp", udp = "udp", ["udp-userland"] = "udp",
      ["udp-subflow"] = "udp", ifnet = "ifnet", sysinfo = "sysinfo", conn = "connection",
    }
    local SOCKET_PROVIDERS = {
      tcp = true, udp = true, ["tcp-userland"] = true, ["udp-userland"] = true, quic = true, ["udp-subflow"] = true,
    }
    local SYSINFO_FLAG_DISTRIBUTION, SYSINFO_FLAG_STRING = 0x2, 0x4
    local SOURCE_REF_ALL_32 = 0xFFFFFFFF
    local SOURCE_REF_ALL_64 = UInt64(0xFFFFFFFF, 0xFFFFFFFF)

    -- 32-bit AND and NOT: bit32 in Lua 5.2 (Wireshark up to 4.2), operators in Lua 5.3 and later,
    -- compiled through load() so that 5.2 never parses them.
    local bit_and, bit_not
    if bit32 then
      bit_and, bit_not = bit32.band, bit32.bnot
    else
      bit_and = load("return function(a, b) return a & b end")()
      bit_not = load("return function(a) return ~a & 0xFFFFFFFF end")()
    end

    local function flag_names(value, names)
      if value == 0 then return "0" end
      local rest, parts = value, {}
      for _, pair in ipairs(names) do
        if bit_and(value, pair[1]) == pair[1] then
          parts[#parts + 1] = pair[2]
          rest = bit_and(rest, bit_not(pair[1]))
        end
      end
      if rest ~= 0 then parts[#parts + 1] = string.format("0x%x", rest) end
      return table.concat(parts, "|")
    end

    -- "0x" and the value in lower-case hex without leading zeros, as Swift's String(_:radix:).
    local function hex_number(value)
      local digits = value:tohex():lower():gsub("^0+", "")
      return "0x" .. (digits == "" and "0" or digits)
    end

    local function fail(offset, reason) error({ offset = offset, reason = reason }, 0) end

    -- One decoded field: key as in the JSON, the field it is shown as, its value, where its bytes
    -- are (absolute offset and width in the tvb) and, for objects and arrays, its children.
    local function node(key, field, value, offset, width) return { k = key, f = field, v = value, o = offset, w = width } end
    local function parent(key, field, offset, width, children, is_array)
      return { k = key, f = field, o = offset, w = width, c = children or {}, array = is_array }
    end

    -- Reads within one message [start, finish): offsets are relative to the message.
    local Reader = {}
    Reader.__index = Reader
    local function reader(tvb, start, finish, type_name)
      return setmetatable({ tvb = tvb, start = start, finish = finish, type_name = type_name }, Reader)
    end
    function Reader:check(offset, count)
      if offset < 0 or count < 0 or self.start + offset + count > self.finish then
        fail(self.start + offset, string.format("%d byte(s) at %d run past the message's end", count, offset))
      end
    end
    function Reader:range(offset, count)
      self:check(offset, count)
      return self.tvb(self.start + offset, count)
    end
    function Reader:u8(offset) return self:range(offset, 1):uint() end
    function Reader:u16(offset) return self:range(offset, 2):le_uint() end
    function Reader:u32(offset) return self:range(offset, 4):le_uint() end
    function Reader:u64(offset) return self:range(offset, 8):le_uint64() end
    function Reader:uint(slot)
      if slot[2] == 8 then return self:u64(slot[1]) end
      if slot[2] == 4 then return self:u32(slot[1]) end
      if slot[2] == 2 then return self:u16(slot[1]) end
      return self:u8(slot[1])
    end
    function Reader:bytes(offset, count)
      if count == 0 then return "" end
      return self:range(offset, count):bytes():tohex():lower()
    end
    function Reader:all_zero(offset, count)
      self:check(offset, count)
      for index = 0, count - 1 do
        if self.tvb(self.start + offset + index, 1):uint() ~= 0 then return false end
      end
      return true
    end
    -- A fixed char array: the bytes up to the first NUL, as UTF-8.
    function Reader:cstring(slot)
      self:check(slot[1], slot[2])
      if slot[2] == 0 then return "" end
      return self.tvb(self.start + slot[1], slot[2]):stringz(ENC_UTF_8)
    end
    function Reader:at(offset) return reader(self.tvb, self.start + offset, self.finish, self.type_name) end
    function Reader:abs(offset) return self.start + offset end

    -- The Message decoder's `need`: the message must hold `size` bytes.
    local function need(r, length, size, family)
      if length < size then
        fail(r.start, string.format("message is %d byte(s); %s defines it as %d", length, family.name, size))
      end
    end

    local function number_node(r, key, field, slot)
      if not slot then return nil end
      return node(key, field, r:uint(slot), r:abs(slot[1]), slot[2])
    end
    local function add(list, item) if item then list[#list + 1] = item end end

    local function hex_node(r, key, field, offset, count)
      return node(key, field, r:bytes(offset, count), r:abs(offset), count)
    end

    local function uuid_node(r, key, field, slot)
      if not slot then return nil end
      r:check(slot[1], 16)
      return node(key, field, "guid", r:abs(slot[1]), 16)
    end

    local function string_node(r, key, field, slot)
      if not slot then return nil end
      return node(key, field, r:cstring(slot), r:abs(slot[1]), slot[2])
    end

    -- A sockaddr union (sockaddr_in / sockaddr_in6, or anything else kept as bytes).
    local function address_node(r, key, prefix, slot)
      local offset, width = slot[1], slot[2]
      r:check(offset, width)
      local children = {}
      local base = r:abs(offset)
      local first, second = r:u8(offset), width > 1 and r:u8(offset + 1) or 0
      if r:all_zero(offset, width) then
        add(children, node("family", prefix .. ".family", "unspecified", base, width))
      elseif width >= 16 and first == 16 and second == 2 and r:all_zero(offset + 8, width - 8) then
        add(children, node("family", prefix .. ".family", "ipv4", base + 1, 1))
        add(children, node("address", prefix .. "_addr", "ipv4", base + 4, 4))
        add(children, node("port", prefix .. "_port", r:range(offset + 2, 2):uint(), base + 2, 2))
      elseif width >= 28 and first == 28 and second == 30 and (width == 28 or r:all_zero(offset + 28, width - 28)) then
        add(children, node("family", prefix .. ".family", "ipv6", base + 1, 1))
        add(children, node("address", prefix .. "_addr6", "ipv6", base + 8, 16))
        add(children, node("port", prefix .. "_port", r:range(offset + 2, 2):uint(), base + 2, 2))
        local flowinfo, scope = r:u32(offset + 4), r:u32(offset + 24)
        if flowinfo ~= 0 then add(children, node("flowinfo", prefix .. ".flowinfo", flowinfo, base + 4, 4)) end
        if scope ~= 0 then add(children, node("scope_id", prefix .. ".scope_id", scope, base + 24, 4)) end
      else
        local finish = width
        while finish > 0 and r:u8(offset + finish - 1) == 0 do finish = finish - 1 end
        add(children, node("family", prefix .. ".family", "raw", base, width))
        add(children, node("bytes", prefix .. ".bytes", r:bytes(offset, finish), base, finish))
      end
      return parent(key, prefix, base, width, children)
    end

    local function bitmap_node(r, key, field, offset)
      r:check(offset, 24)
      local base = r:abs(offset)
      return parent(key, field, base, 24, {
        node("start", field .. ".start", r:u64(offset), base, 8),
        parent("bitmap", field .. ".bitmap", base + 8, 16, {
          node("[0]", field .. ".word", r:u64(offset + 8), base + 8, 8),
          node("[1]", field .. ".word", r:u64(offset + 16), base + 16, 8),
        }, true),
      })
    end

    -- `reserved` and compiler padding, concatenated; absent when all zero (StructReader.opaque).
    local function opaque_node(r, layout)
      local slots = {}
      if layout.f.reserved then slots[#slots + 1] = layout.f.reserved end
      for _, hole in ipairs(layout.holes) do slots[#slots + 1] = hole end
      local zero = true
      for _, slot in ipairs(slots) do
        if not r:all_zero(slot[1], slot[2]) then zero = false end
      end
      if zero then return nil end
      local parts = {}
      for _, slot in ipairs(slots) do parts[#parts + 1] = r:bytes(slot[1], slot[2]) end
      return node("opaque", "opaque", table.concat(parts), r:abs(slots[1][1]), 0)
    end

    local function flags_node(r, key, field, slot, names)
      if not slot then return nil end
      local value = r:uint(slot)
      local item = node(key, field, flag_names(value, names), r:abs(slot[1]), slot[2])
      item.bits = { field = field .. ".bits", value = value }
      return item
    end

    local function counts_node(r, L, key)
      local l = L.counts
      r:check(0, l.size)
      local c = {}
      local names = {
        { "rx_packets", "rxPackets" }, { "rx_bytes", "rxBytes" }, { "tx_packets", "txPackets" }, { "tx_bytes", "txBytes" },
        { "cell_rx_bytes", "cellRxBytes" }, { "cell_tx_bytes", "cellTxBytes" }, { "wifi_rx_bytes", "wifiRxBytes" },
        { "wifi_tx_bytes", "wifiTxBytes" }, { "wired_rx_bytes", "wiredRxBytes" }, { "wired_tx_bytes", "wiredTxBytes" },
        { "rx_duplicate_bytes", "rxDuplicateBytes" }, { "rx_out_of_order_bytes", "rxOutOfOrderBytes" },
        { "tx_retransmit", "txRetransmit" }, { "connect_attempts", "connectAttempts" },
        { "connect_successes", "connectSuccesses" }, { "min_rtt", "minRTT" }, { "avg_rtt", "avgRTT" },
        { "var_rtt", "varRTT" },
      }
      for _, pair in ipairs(names) do add(c, number_node(r, pair[1], pair[1], l.f[pair[2]])) end
      return parent(key, "counts", r:abs(0), l.size, c)
    end

    local function detailed_counts_node(r, L)
      local l, media, traffic = L.detailedCounts, L.mediaStats, L.trafficStats
      r:check(0, l.size)
      local c = {}
      local media_base = l.f.mediaStats[1]
      for index, medium in ipairs(MEDIA) do
        local t = r:at(media_base + media.f[MEDIA_FIELDS[index]][1])
        t:check(0, traffic.size)
        local m = {}
        for _, pair in ipairs({ { "rx_packets", "rxPackets" }, { "rx_bytes", "rxBytes" }, { "tx_packets", "txPackets" },
          { "tx_bytes", "txBytes" } }) do
          add(m, node(pair[1], medium .. "." .. pair[1], t:u64(traffic.f[pair[2]][1]), t:abs(traffic.f[pair[2]][1]), 8))
        end
        add(m, bitmap_node(t, "activity_bitmap", medium .. ".activity_bitmap", traffic.f.activityBitmap[1]))
        add(c, parent(medium, medium, t:abs(0), traffic.size, m))
      end
      for _, pair in ipairs({ { "rx_duplicate_bytes", "rxDuplicateBytes" }, { "rx_out_of_order_bytes", "rxOutOfOrderBytes" },
        { "tx_retransmit", "txRetransmit" }, { "min_rtt", "minRTT" }, { "avg_rtt", "avgRTT" }, { "var_rtt", "varRTT" },
        { "xtra_flags", "extraFlags" } }) do
        add(c, number_node(r, pair[1], pair[1], l.f[pair[2]]))
      end
      add(c, uuid_node(r, "xtra_uuid", "xtra_uuid", l.f.extraUUID))
      return parent("detailed_counts", "detailed_counts", r:abs(0), l.size, c)
    end

    local function flow_nodes(c, r, l)
      add(c, number_node(r, "pid", "pid", l.f.pid))
      add(c, number_node(r, "epid", "epid", l.f.epid))
      add(c, number_node(r, "upid", "upid", l.f.upid))
      add(c, number_node(r, "eupid", "eupid", l.f.eupid))
      add(c, string_node(r, "pname", "pname", l.f.processName))
      add(c, address_node(r, "local", "local", l.f["local"]))
      add(c, address_node(r, "remote", "remote", l.f.remote))
      add(c, number_node(r, "ifindex", "ifindex", l.f.ifindex))
    end

    local function identity_nodes(c, r, l)
      add(c, uuid_node(r, "uuid", "uuid", l.f.uuid))
      add(c, uuid_node(r, "euuid", "euuid", l.f.euuid))
      add(c, uuid_node(r, "vuuid", "vuuid", l.f.vuuid))
      add(c, uuid_node(r, "fuuid", "fuuid", l.f.fuuid))
      add(c, number_node(r, "persona_id", "persona_id", l.f.personaID))
      add(c, number_node(r, "uid", "uid", l.f.uid))
    end

    local function u64_node(r, key, field, slot)
      if not slot then return nil end
      return node(key, field, r:u64(slot[1]), r:abs(slot[1]), 8)
    end
    local function u32_node(r, key, field, slot)
      if not slot then return nil end
      return node(key, field, r:u32(slot[1]), r:abs(slot[1]), 4)
    end

    local DESCRIPTORS = {}
    function DESCRIPTORS.tcp(r, L)
      local l = L.tcpDescriptor
      r:check(0, l.size)
      local c = { node("kind", "kind", "tcp", r:abs(0), 0) }
      flow_nodes(c, r, l)
      local state = r:u32(l.f.state[1])
      add(c, node("state", "state", TCP_STATES[state] or ("STATE_" .. state), r:abs(l.f.state[1]), 4))
      add(c, node("state_value", "state_value", state, r:abs(l.f.state[1]), 4))
      add(c, flags_node(r, "ifnet_properties", "ifnet_properties", l.f.interfaceProperties, IFNET_PROPERTIES))
      for _, pair in ipairs({ { "sndbufsize", "sendBufferSize" }, { "sndbufused", "sendBufferUsed" },
        { "rcvbufsize", "receiveBufferSize" }, { "rcvbufused", "receiveBufferUsed" }, { "txunacked", "txUnacked" },
        { "txwindow", "txWindow" }, { "txcwindow", "txCongestionWindow" }, { "traffic_class", "trafficClass" },
        { "traffic_mgt_flags", "trafficManagementFlags" } }) do
        add(c, u32_node(r, pair[1], pair[1], l.f[pair[2]]))
      end
      add(c, string_node(r, "cc_algo", "cc_algo", l.f.congestionAlgorithm))
      identity_nodes(c, r, l)
      add(c, u32_node(r, "connstatus", "connstatus", l.f.connectionStatus))
      if l.f.fallbackMode then add(c, node("fallback_mode", "fallback_mode", r:u8(l.f.fallbackMode[1]), r:abs(l.f.fallbackMode[1]), 1)) end
      for _, pair in ipairs({ { "start_timestamp", "startTimestamp" }, { "timestamp", "timestamp" },
        { "rx_transfer_size", "rxTransferSize" }, { "tx_transfer_size", "txTransferSize" } }) do
        add(c, u64_node(r, pair[1], pair[1], l.f[pair[2]]))
      end
      if l.f.activityBitmap then add(c, bitmap_node(r, "activity_bitmap", "activity_bitmap", l.f.activityBitmap[1])) end
      add(c, opaque_node(r, l))
      return c, l.size
    end
    function DESCRIPTORS.udp(r, L)
      local l = L.udpDescriptor
      r:check(0, l.size)
      local c = { node("kind", "kind", "udp", r:abs(0), 0) }
      flow_nodes(c, r, l)
      add(c, flags_node(r, "ifnet_properties", "ifnet_properties", l.f.interfaceProperties, IFNET_PROPERTIES))
      add(c, u32_node(r, "rcvbufsize", "rcvbufsize", l.f.receiveBufferSize))
      add(c, u32_node(r, "rcvbufused", "rcvbufused", l.f.receiveBufferUsed))
      add(c, u32_node(r, "traffic_class", "traffic_class", l.f.trafficClass))
      identity_nodes(c, r, l)
      if l.f.fallbackMode then add(c, node("fallback_mode", "fallback_mode", r:u8(l.f.fallbackMode[1]), r:abs(l.f.fallbackMode[1]), 1)) end
      add(c, u64_node(r, "start_timestamp", "start_timestamp", l.f.startTimestamp))
      add(c, u64_node(r, "timestamp", "timestamp", l.f.timestamp))
      if l.f.activityBitmap then add(c, bitmap_node(r, "activity_bitmap", "activity_bitmap", l.f.activityBitmap[1])) end
      add(c, opaque_node(r, l))
      return c, l.size
    end
    function DESCRIPTORS.route(r, L)
      local l = L.routeDescriptor
      r:check(0, l.size)
      local c = { node("kind", "kind", "route", r:abs(0), 0) }
      add(c, u64_node(r, "id", "route.id", l.f.id))
      add(c, u64_node(r, "parent_id", "route.parent_id", l.f.parentID))
      add(c, u64_node(r, "gateway_id", "route.gateway_id", l.f.gatewayID))
      add(c, address_node(r, "dst", "dst", l.f.destination))
      add(c, address_node(r, "mask", "mask", l.f.mask))
      add(c, address_node(r, "gateway", "gateway", l.f.gateway))
      add(c, u32_node(r, "ifindex", "ifindex", l.f.ifindex))
      add(c, u32_node(r, "flags", "route.flags", l.f.flags))
      add(c, opaque_node(r, l))
      return c, l.size
    end
    function DESCRIPTORS.ifnet(r, L)
      local l = L.interfaceDescriptor
      local c = { node("kind", "kind", "ifnet", r:abs(0), 0) }
      -- Read in the Swift decoder's order (threshold and index first), shown in the JSON's.
      local threshold = u64_node(r, "threshold", "ifnet.threshold", l.f.threshold)
      local ifindex = u32_node(r, "ifindex", "ifindex", l.f.ifindex)
      local link
      if l.f.linkStatus then
        local slot = l.f.linkStatus
        local words = {}
        for index = 0, math.floor((slot[2] - 4) / 4) - 1 do
          words[#words + 1] = node("[" .. index .. "]", "ifnet.link_status.word", r:u32(slot[1] + 4 + 4 * index),
            r:abs(slot[1] + 4 + 4 * index), 4)
        end
        link = parent("link_status", "ifnet.link_status", r:abs(slot[1]), slot[2], {
          node("type", "ifnet.link_status.type", r:u32(slot[1]), r:abs(slot[1]), 4),
          parent("words", "ifnet.link_status.words", r:abs(slot[1] + 4), slot[2] - 4, words, true),
        })
      end
      local type_node = u32_node(r, "type", "ifnet.type", l.f.type)
      local description = string_node(r, "description", "ifnet.description", l.f.description)
      local name = string_node(r, "name", "ifnet.name", l.f.name)
      local opaque = opaque_node(r, l)
      add(c, name)
      add(c, ifindex)
      add(c, type_node)
      add(c, description)
      add(c, threshold)
      add(c, link)
      add(c, opaque)
      return c, l.size
    end
    function DESCRIPTORS.sysinfo(r, L)
      local l = L.sysinfoDescriptor
      return { node("kind", "kind", "sysinfo", r:abs(0), 0), u32_node(r, "flags", "sysinfo.flags", l.f.flags) }, l.size
    end
    function DESCRIPTORS.connection(r, L)
      local l = L.connectionDescriptor
      r:check(0, l.size)
      local c = { node("kind", "kind", "conn", r:abs(0), 0) }
      add(c, u32_node(r, "pid", "pid", l.f.pid))
      add(c, u32_node(r, "epid", "epid", l.f.epid))
      add(c, u64_node(r, "upid", "upid", l.f.upid))
      add(c, u64_node(r, "eupid", "eupid", l.f.eupid))
      add(c, string_node(r, "pname", "pname", l.f.processName))
      add(c, flags_node(r, "ifnet_properties", "ifnet_properties", l.f.interfaceProperties, IFNET_PROPERTIES))
      for _, key in ipairs({ "uuid", "euuid", "cuuid", "puuid", "fuuid" }) do add(c, uuid_node(r, key, key, l.f[key])) end
      add(c, u32_node(r, "persona_id", "persona_id", l.f.personaID))
      add(c, u32_node(r, "uid", "uid", l.f.uid))
      add(c, u64_node(r, "start_timestamp", "start_timestamp", l.f.startTimestamp))
      add(c, u64_node(r, "timestamp", "timestamp", l.f.timestamp))
      add(c, opaque_node(r, l))
      return c, l.size
    end

    local function descriptor_sizes(L, kind)
      local tables = {
        tcp = L.tcpDescriptor, udp = L.udpDescriptor, route = L.routeDescriptor, ifnet = L.interfaceDescriptor,
        sysinfo = L.sysinfoDescriptor, connection = L.connectionDescriptor,
      }
      return tables[kind] and tables[kind].size
    end

    local function provider_name(family, id) return family.providers[id] or "unknown" end

    -- The provider's descriptor at `offset` (relative to the message); returns it and its size.
    local function decode_descriptor(r, family, offset, finish, provider)
      local name = provider < 16 and family.providers[provider] or nil
      local kind = name and DESCRIPTOR_KINDS[name]
      if not kind then
        fail(r:abs(offset - 8), string.format("provider %d is not defined in %s", provider, family.name))
      end
      local size = descriptor_sizes(family.L, kind)
      if not size then fail(r:abs(offset - 8), string.format("%s has no %s descriptor", family.name, kind)) end
      if finish - offset < size then
        fail(r:abs(offset), string.format("%d byte(s) left for a %d-byte %s descriptor of %s", finish - offset, size, kind,
          family.name))
      end
      local children = DESCRIPTORS[kind](r:at(offset), family.L)
      return parent("descriptor", "descriptor", r:abs(offset), size, children), size, children
    end

    local function decode_items(r, family, offset, finish)
      local items, cursor, index = {}, offset, 0
      local L = family.L
      while cursor < finish do
        if finish - cursor < 8 then
          fail(r:abs(cursor), string.format("%d byte(s) left, an extended item header needs 8", finish - cursor))
        end
        local item_type, length = r:u32(cursor), r:u32(cursor + 4)
        local padded = bit_and(length + 7, bit_not(7))
        if padded > finish - cursor - 8 then
          fail(r:abs(cursor + 4), string.format("extended item %s of length %d (padded %d) runs past the message end",
            ITEM_TYPES[item_type] or ("ITEM_" .. item_type), length, padded))
        end
        local p = r:at(cursor + 8)
        local c = {
          node("type", "item.type", ITEM_TYPES[item_type] or ("ITEM_" .. item_type), r:abs(cursor), 4),
          node("length", "item.length", length, r:abs(cursor + 4), 4),
        }
        local l = L.domainInfo
        if (item_type == 1 or item_type == 4) and l and padded == l.size and length == l.size then
          local d = {}
          add(d, string_node(p, "domain_name", "item.domain_name", l.f.domainName))
          add(d, string_node(p, "domain_owner", "item.domain_owner", l.f.domainOwner))
          add(d, string_node(p, "tracker_ctxt", "item.tracker_ctxt", l.f.trackerContext))
          add(d, string_node(p, "attributed_bundle_id", "item.attributed_bundle_id", l.f.attributedBundleID))
          if l.f.remote then add(d, address_node(p, "remote", "remote", l.f.remote)) end
          for _, pair in ipairs({ { "is_tracker", "isTracker" }, { "is_non_app_initiated", "isNonAppInitiated" },
            { "is_silent", "isSilent" } }) do
            local slot = l.f[pair[2]]
            add(d, node(pair[1], "item." .. pair[1], p:u8(slot[1]) ~= 0, p:abs(slot[1]), 1))
          end
          -- The Swift decoder reads the opaque bytes too (bounds), though the JSON leaves them out.
          opaque_node(p, l)
          add(c, parent("domain", "item.domain", p:abs(0), l.size, d))
        elseif item_type == 5 and length == 16 then
          add(c, uuid_node(p, "fuuid", "item.fuuid", { 0, 16 }))
        elseif item_type == 6 and L.interfaceCounts and length == L.interfaceCounts.size then
          local ic = L.interfaceCounts
          local counts = {}
          for _, pair in ipairs({ { "rx_packets", "rxPackets" }, { "rx_bytes", "rxBytes" }, { "tx_packets", "txPackets" },
            { "tx_bytes", "txBytes" } }) do
            add(counts, node(pair[1], "item." .. pair[1], p:u64(ic.f[pair[2]][1]), p:abs(ic.f[pair[2]][1]), 8))
          end
          add(c, parent("counts", "item.counts", p:abs(0), ic.size, counts))
        else
          add(c, hex_node(p, "bytes", "item.bytes", 0, padded))
        end
        items[#items + 1] = parent("[" .. index .. "]", "item", r:abs(cursor), 8 + padded, c)
        index = index + 1
        cursor = cursor + 8 + padded
      end
      return items
    end

    local function decode_parameters(r, family, count, provider)
      local L = family.L
      local name = provider < 16 and family.providers[provider] or nil
      local base = r:abs(0)
      if name == "route" and count == L.routeAddParameters.size then
        local l = L.routeAddParameters
        return parent("param", "param", base, count, {
          address_node(r, "dst", "dst", l.f.destination), address_node(r, "mask", "mask", l.f.mask),
          u32_node(r, "ifindex", "ifindex", l.f.ifindex),
        })
      elseif name and SOCKET_PROVIDERS[name] and count == L.tcpAddParameters.size then
        local l = L.tcpAddParameters
        return parent("param", "param", base, count, {
          address_node(r, "local", "local", l.f["local"]), address_node(r, "remote", "remote", l.f.remote),
        })
      elseif name == "ifnet" and L.interfaceAddParameters and count == L.interfaceAddParameters.size then
        local l = L.interfaceAddParameters
        return parent("param", "param", base, count, {
          u64_node(r, "threshold", "ifnet.threshold", l.f.threshold), u32_node(r, "ifindex", "ifindex", l.f.ifindex),
        })
      elseif name == "sysinfo" and L.sysinfoAddParameters and count == L.sysinfoAddParameters.size then
        local l = L.sysinfoAddParameters
        return parent("param", "param", base, count, { u32_node(r, "flags", "sysinfo.flags", l.f.flags) })
      end
      return hex_node(r, "param_bytes", "param_bytes", 0, count)
    end

    -- Swift's shortest round-tripping Double text ("0.5", "1.0", "1e-05", "inf").
    local function double_text(value)
      if value ~= value then return "nan" end
      if value == math.huge then return "inf" end
      if value == -math.huge then return "-inf" end
      if value == math.floor(value) and math.abs(value) < 2 ^ 53 then return string.format("%.1f", value) end
      for precision = 1, 17 do
        local text = string.format("%." .. precision .. "g", value)
        if tonumber(text) == value then
          return (text:gsub("e([-+])0*(%d%d)", "e%1%2"))
        end
      end
      return string.format("%.17g", value)
    end

    local decode_message

    local function sysinfo_node(r, family, length, c)
      local L = family.L
      local l, h, kv = L.sysinfoCountsMessage, L.sysinfoCountsHeader, L.sysinfoKeyValue
      need(r, length, l.size, family)
      local counts = l.f.counts[1]
      local keyvals_start = counts + h.f.keyvals[1]
      local count = math.floor((length - keyvals_start) / kv.size)
      local values = {}
      local header_length = r:u32(counts + h.f.length[1])
      r:u32(counts + h.f.pad[1])
      for index = 0, count - 1 do
        local k = r:at(keyvals_start + index * kv.size)
        local key, flags = k:u32(kv.f.key[1]), k:u32(kv.f.flags[1])
        local value = kv.f.value
        k:check(value[1], value[2])
        local e = { node("key", "keyval.key", key, k:abs(kv.f.key[1]), 4), node("flags", "keyval.flags", flags,
          k:abs(kv.f.flags[1]), 4) }
        if bit_and(flags, SYSINFO_FLAG_STRING) ~= 0 then
          add(e, node("string", "keyval.string", k:cstring(value), k:abs(value[1]), value[2]))
        elseif bit_and(flags, SYSINFO_FLAG_DISTRIBUTION) ~= 0 then
          local number = value[2] >= 8 and k:range(value[1], 8):le_float() or 0
          add(e, node("distribution", "keyval.distribution", double_text(number), k:abs(value[1]), 8))
        else
          local scalar = value[2] >= 8 and k:range(value[1], 8):le_int64() or Int64(0)
          add(e, node("scalar", "keyval.scalar", scalar, k:abs(value[1]), math.min(8, value[2])))
        end
        add(e, u32_node(k, "valsize", "keyval.valsize", kv.f.valueSize))
        opaque_node(k, kv)
        values[#values + 1] = parent("[" .. index .. "]", "keyval", k:abs(0), kv.size, e)
      end
      add(c, node("sysinfo_len", "sysinfo_len", header_length, r:abs(counts + h.f.length[1]), 4))
      add(c, parent("keyvals", "keyvals", r:abs(keyvals_start), count * kv.size, values, true))
      return keyvals_start + count * kv.size
    end

    -- Decodes the message at [start, finish) of the tvb. Returns its fields, and a summary record
    -- for the Info column and the source table.
    decode_message = function(tvb, start, finish, family)
      local length = finish - start
      local header = reader(tvb, start, finish, nil)
      local type_value = header:u32(8)
      local type_name = MESSAGE_TYPES[type_value] or string.format("TYPE_0x%04X", type_value)
      local r = reader(tvb, start, finish, type_name)
      local L = family.L
      local c = {
        node("type", "type", type_name, start + 8, 4),
        node("type_value", "type_value", type_value, start + 8, 4),
        node("context", "context", r:u64(0), start, 8),
      }
      if family.length_and_flags then
        add(c, node("length", "length", r:u16(12), start + 12, 2))
        local flags = r:u16(14)
        local item = node("flags", "flags", flag_names(flags, MESSAGE_FLAGS), start + 14, 2)
        item.bits = { field = "flags.bits", value = flags }
        add(c, item)
      else
        add(c, node("pad", "pad", r:u32(12), start + 12, 4))
      end
      local summary = { type = type_name }
      local consumed = 16
      local function provider(offset)
        local id = r:u32(offset)
        local item = node("provider", "provider", id, r:abs(offset), 4)
        item.note = provider_name(family, id)
        add(c, item)
        add(c, node("provider_name", "provider_name", provider_name(family, id), r:abs(offset), 4))
        summary.provider = provider_name(family, id)
        return id
      end
      local function ref(slot)
        local raw = r:uint(slot)
        local text
        if (slot[2] == 4 and raw == SOURCE_REF_ALL_32) or (slot[2] == 8 and raw == SOURCE_REF_ALL_64) then
          text = "ALL"
        else
          text = tostring(raw)
        end
        add(c, node("srcref", "srcref", text, r:abs(slot[1]), slot[2]))
        summary.srcref = text
      end
      local function need_size(size)
        need(r, length, size, family)
        consumed = size
      end
      local function unknown()
        add(c, hex_node(r, "payload", "payload", 16, length - 16))
        consumed = length
        summary.unknown = true
      end
      local function described(data, provider_offset, counts_node_fn, extended)
        if length < data then
          fail(start, string.format("message is %d byte(s); %s defines it as %d", length, family.name, data))
        end
        consumed = data
        local id = r:u32(provider_offset)
        local descriptor, size, fields = decode_descriptor(r, family, data, length, id)
        consumed = data + size
        local items
        if extended then
          items = decode_items(r, family, consumed, length)
          consumed = length
        end
        return id, descriptor, fields, items
      end

      local packs = family.length_and_flags
      if type_value == 0 then
        -- SUCCESS: the header alone.
      elseif type_value == 1008 and packs then
        -- SUBSCRIBE_SYSINFO: the header alone.
      elseif type_value == 1 then
        local l = L.errorMessage
        need_size(l.size)
        local errno = r:u32(l.f.error[1])
        if errno >= 0x80000000 then errno = errno - 0x100000000 end
        add(c, node("error", "error", errno, r:abs(l.f.error[1]), 4))
        add(c, node("error_name", "error_name", ERRNO_NAMES[errno] or ("errno " .. errno), r:abs(l.f.error[1]), 4))
        add(c, u32_node(r, "reserved", "reserved", l.f.reserved))
        summary.error = ERRNO_NAMES[errno] or ("errno " .. errno)
        if packs and length > l.size then
          local ok, request = false, nil
          if length - l.size >= 16 then ok, request = pcall(decode_message, tvb, start + l.size, finish, family) end
          if ok then
            request.node.k = "failed_request"
            request.node.f = "failed_request"
            add(c, request.node)
            summary.failed = request.summary.type
          else
            add(c, hex_node(r, "failed_request_bytes", "failed_request_bytes", l.size, length - l.size))
          end
          consumed = length
        end
      elseif type_value == 1001 then
        local l = L.addSourceMessage
        need_size(l.f.parameters[1])
        local id = provider(l.f.provider[1])
        add(c, u32_node(r, "reserved", "reserved", l.f.reserved))
        add(c, decode_parameters(r:at(consumed), family, length - consumed, id))
        consumed = length
      elseif type_value == 1002 then
        local l = L.addAllSourcesMessage
        need_size(l.size)
        provider(l.f.provider[1])
        for _, key in ipairs({ "filter", "events" }) do
          local slot = l.f[key]
          if slot then add(c, node(key, key, hex_number(r:u64(slot[1])), r:abs(slot[1]), 8)) end
        end
        if l.f.targetPID then
          local pid = r:u32(l.f.targetPID[1])
          if pid >= 0x80000000 then pid = pid - 0x100000000 end
          add(c, node("target_pid", "target_pid", pid, r:abs(l.f.targetPID[1]), 4))
        end
        add(c, uuid_node(r, "target_uuid", "target_uuid", l.f.targetUUID))
      elseif type_value == 1003 or type_value == 1004 or type_value == 1005 or type_value == 10002
        or type_value == 1007 or type_value == 1009 then
        if (type_value == 1007 and not packs) or (type_value == 1009 and not family.details) then
          unknown()
        else
          local l = L.sourceRefMessage
          need_size(l.size)
          ref(l.f.sourceRef)
        end
      elseif type_value == 1006 and L.setFilterMessage then
        local l = L.setFilterMessage
        need_size(l.size)
        ref(l.f.sourceRef)
        add(c, node("filter", "set_filter", r:u32(l.f.filter[1]), r:abs(l.f.filter[1]), 4))
      elseif type_value == 10001 then
        local l = L.sourceAddedMessage
        need_size(l.size)
        ref(l.f.sourceRef)
        provider(l.f.provider[1])
      elseif type_value == 10004 then
        local l = L.sourceCountsMessage
        need_size(l.size)
        ref(l.f.sourceRef)
        add(c, u64_node(r, "event_flags", "event_flags", l.f.eventFlags))
        local counts = counts_node(r:at(l.f.counts[1]), L, "counts")
        add(c, counts)
        summary.counts = counts
      elseif type_value == 10003 then
        local l = L.sourceDescriptionMessage
        local data = l.f.data[1]
        need_size(data)
        local id = r:u32(l.f.provider[1])
        local descriptor, size, fields = decode_descriptor(r, family, data, length, id)
        consumed = data + size
        if l.f.reserved then r:u32(l.f.reserved[1]) end
        ref(l.f.sourceRef)
        add(c, u64_node(r, "event_flags", "event_flags", l.f.eventFlags))
        provider(l.f.provider[1])
        add(c, descriptor)
        summary.descriptor = fields
      elseif (type_value == 10006 and L.sourceUpdateMessage) or (type_value == 10007 and L.domainInfo) then
        local l = L.sourceUpdateMessage
        local id, descriptor, fields, items = described(l.f.data[1], l.f.provider[1], nil, type_value == 10007)
        local counts = counts_node(r:at(l.f.counts[1]), L, "counts")
        if l.f.reserved then r:u32(l.f.reserved[1]) end
        ref(l.f.sourceRef)
        add(c, u64_node(r, "event_flags", "event_flags", l.f.eventFlags))
        provider(l.f.provider[1])
        add(c, counts)
        add(c, descriptor)
        if type_value == 10007 then add(c, parent("items", "items", r:abs(l.f.data[1]), 0, items, true)) end
        summary.counts, summary.descriptor = counts, fields
      elseif (type_value == 10008 or type_value == 10009) and L.sourceDetailsMessage then
        local l = L.sourceDetailsMessage
        local id, descriptor, fields, items = described(l.f.data[1], l.f.provider[1], nil, type_value == 10009)
        local counts = detailed_counts_node(r:at(l.f.detailedCounts[1]), L)
        ref(l.f.sourceRef)
        add(c, u64_node(r, "event_flags", "event_flags", l.f.eventFlags))
        provider(l.f.provider[1])
        add(c, counts)
        add(c, descriptor)
        if type_value == 10009 then add(c, parent("items", "items", r:abs(l.f.data[1]), 0, items, true)) end
        summary.counts, summary.descriptor = counts, fields
      elseif type_value == 10005 and L.sysinfoCountsMessage then
        local l = L.sysinfoCountsMessage
        need_size(l.size)
        ref(l.f.sourceRef)
        consumed = sysinfo_node(r, family, length, c)
      else
        unknown()
      end
      if consumed < length then
        add(c, node("extra_length", "extra_length", length - consumed, start + consumed, length - consumed))
        add(c, hex_node(r, "extra_bytes", "extra_bytes", consumed, length - consumed))
        summary.extra = true
      end
      return { node = parent("message", "message", start, length, c), summary = summary }
    end

    -- Where the message at `offset` ends: the datagram's end for requests and for families before
    -- xnu-3247, else offset + hdr.length.
    local function message_end(tvb, offset, total, family, outbound)
      if total - offset < 16 then
        fail(offset, string.format("%d byte(s) left, a message header needs 16", total - offset))
      end
      if not family.length_and_flags or outbound then return total end
      local length = tvb(offset + 12, 2):le_uint()
      if length < 16 then
        fail(offset + 12, string.format("header length %d is shorter than the 16-byte header", length))
      end
      if length > total - offset then
        fail(offset, string.format("header length %d runs past the datagram's end (%d byte(s) left)", length, total - offset))
      end
      return offset + length
    end

    -- Every message of a datagram, or the messages before the damage and the error.
    local function decode_datagram(tvb, family, outbound)
      local messages, offset, total = {}, 0, tvb:len()
      repeat
        local ok, result = pcall(function()
          local finish = message_end(tvb, offset, total, family, outbound)
          return { decoded = decode_message(tvb, offset, finish, family), finish = finish }
        end)
        if not ok then
          if type(result) ~= "table" then result = { offset = offset, reason = "dissector error: " .. tostring(result) } end
          return messages, result
        end
        messages[#messages + 1] = result.decoded
        offset = result.finish
      until offset >= total
      return messages, nil
    end

    -- Does the datagram decode under `family` with no byte left over, none missing and no unknown
    -- type? (FamilyDetection.swift's test.)
    local function fits(tvb, family, outbound)
      local messages, err = decode_datagram(tvb, family, outbound)
      if err or #messages == 0 then return false end
      for _, message in ipairs(messages) do
        if message.summary.unknown or message.summary.extra then return false end
      end
      return true
    end
    """#

  static let dissector = #"""
    -- The Wireshark side: fields, preferences, family selection, the tree, the Info column.

    local ntstat = Proto("ntstat", "macOS network statistics (com.apple.network.statistics)")

    -- Every key of `ntstat cat --json` is a field; its label is the JSON key, so that the tree
    -- reads as the JSON does. {abbreviation suffix, type, base or extra}
    local FIELD_SPECS = {
      { "message", ftypes.NONE }, { "type", ftypes.STRING }, { "type_value", ftypes.UINT32, base.DEC, MESSAGE_TYPES },
      { "context", ftypes.UINT64 }, { "length", ftypes.UINT16 }, { "flags", ftypes.STRING }, { "pad", ftypes.UINT32 },
      { "srcref", ftypes.STRING }, { "provider", ftypes.UINT32 }, { "provider_name", ftypes.STRING },
      { "event_flags", ftypes.UINT64, base.HEX }, { "reserved", ftypes.UINT32 }, { "error", ftypes.INT32 },
      { "error_name", ftypes.STRING }, { "failed_request", ftypes.NONE }, { "failed_request_bytes", ftypes.STRING },
      { "param", ftypes.NONE }, { "param_bytes", ftypes.STRING }, { "filter", ftypes.STRING }, { "events", ftypes.STRING },
      { "target_pid", ftypes.INT32 }, { "target_uuid", ftypes.GUID }, { "set_filter", ftypes.UINT32, base.HEX, nil, "filter" },
      { "payload", ftypes.STRING }, { "extra_length", ftypes.UINT32 }, { "extra_bytes", ftypes.STRING },
      { "counts", ftypes.NONE }, { "detailed_counts", ftypes.NONE },
      { "rx_packets", ftypes.UINT64 }, { "rx_bytes", ftypes.UINT64 }, { "tx_packets", ftypes.UINT64 },
      { "tx_bytes", ftypes.UINT64 }, { "cell_rx_bytes", ftypes.UINT64 }, { "cell_tx_bytes", ftypes.UINT64 },
      { "wifi_rx_bytes", ftypes.UINT64 }, { "wifi_tx_bytes", ftypes.UINT64 }, { "wired_rx_bytes", ftypes.UINT64 },
      { "wired_tx_bytes", ftypes.UINT64 }, { "rx_duplicate_bytes", ftypes.UINT64 },
      { "rx_out_of_order_bytes", ftypes.UINT64 }, { "tx_retransmit", ftypes.UINT64 },
      { "connect_attempts", ftypes.UINT32 }, { "connect_successes", ftypes.UINT32 }, { "min_rtt", ftypes.UINT32 },
      { "avg_rtt", ftypes.UINT32 }, { "var_rtt", ftypes.UINT32 }, { "xtra_flags", ftypes.UINT32, base.HEX },
      { "xtra_uuid", ftypes.GUID },
      { "descriptor", ftypes.NONE }, { "kind", ftypes.STRING }, { "pid", ftypes.UINT32 }, { "epid", ftypes.UINT32 },
      { "upid", ftypes.UINT64 }, { "eupid", ftypes.UINT64 }, { "pname", ftypes.STRING }, { "ifindex", ftypes.UINT32 },
      { "state", ftypes.STRING }, { "state_value", ftypes.UINT32, base.DEC, TCP_STATES },
      { "ifnet_properties", ftypes.STRING }, { "sndbufsize", ftypes.UINT32 }, { "sndbufused", ftypes.UINT32 },
      { "rcvbufsize", ftypes.UINT32 }, { "rcvbufused", ftypes.UINT32 }, { "txunacked", ftypes.UINT32 },
      { "txwindow", ftypes.UINT32 }, { "txcwindow", ftypes.UINT32 }, { "traffic_class", ftypes.UINT32 },
      { "traffic_mgt_flags", ftypes.UINT32, base.HEX }, { "cc_algo", ftypes.STRING }, { "uuid", ftypes.GUID },
      { "euuid", ftypes.GUID }, { "vuuid", ftypes.GUID }, { "fuuid", ftypes.GUID }, { "cuuid", ftypes.GUID },
      { "puuid", ftypes.GUID }, { "persona_id", ftypes.UINT32 }, { "uid", ftypes.UINT32 },
      { "connstatus", ftypes.UINT32, base.HEX }, { "fallback_mode", ftypes.UINT8 }, { "start_timestamp", ftypes.UINT64 },
      { "timestamp", ftypes.UINT64 }, { "rx_transfer_size", ftypes.UINT64 }, { "tx_transfer_size", ftypes.UINT64 },
      { "opaque", ftypes.STRING },
      { "route.id", ftypes.UINT64 }, { "route.parent_id", ftypes.UINT64 }, { "route.gateway_id", ftypes.UINT64 },
      { "route.flags", ftypes.UINT32, base.HEX },
      { "ifnet.name", ftypes.STRING }, { "ifnet.type", ftypes.UINT32 }, { "ifnet.description", ftypes.STRING },
      { "ifnet.threshold", ftypes.UINT64 }, { "ifnet.link_status", ftypes.NONE },
      { "ifnet.link_status.type", ftypes.UINT32 }, { "ifnet.link_status.words", ftypes.NONE },
      { "ifnet.link_status.word", ftypes.UINT32, base.HEX }, { "sysinfo.flags", ftypes.UINT32, base.HEX },
      { "items", ftypes.NONE }, { "item", ftypes.NONE }, { "item.type", ftypes.STRING }, { "item.length", ftypes.UINT32 },
      { "item.domain", ftypes.NONE }, { "item.domain_name", ftypes.STRING }, { "item.domain_owner", ftypes.STRING },
      { "item.tracker_ctxt", ftypes.STRING }, { "item.attributed_bundle_id", ftypes.STRING },
      { "item.is_tracker", ftypes.BOOLEAN }, { "item.is_non_app_initiated", ftypes.BOOLEAN },
      { "item.is_silent", ftypes.BOOLEAN }, { "item.fuuid", ftypes.GUID }, { "item.counts", ftypes.NONE },
      { "item.rx_packets", ftypes.UINT64 }, { "item.rx_bytes", ftypes.UINT64 }, { "item.tx_packets", ftypes.UINT64 },
      { "item.tx_bytes", ftypes.UINT64 }, { "item.bytes", ftypes.STRING },
      { "sysinfo_len", ftypes.UINT32 }, { "keyvals", ftypes.NONE }, { "keyval", ftypes.NONE },
      { "keyval.key", ftypes.UINT32 }, { "keyval.flags", ftypes.UINT32, base.HEX }, { "keyval.string", ftypes.STRING },
      { "keyval.distribution", ftypes.STRING }, { "keyval.scalar", ftypes.INT64 }, { "keyval.valsize", ftypes.UINT32 },
    }
    -- Addresses: one set per place a sockaddr appears.
    for _, prefix in ipairs({ "local", "remote", "dst", "mask", "gateway" }) do
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix, ftypes.NONE }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. ".family", ftypes.STRING }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. "_addr", ftypes.IPv4, nil, nil, "address" }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. "_addr6", ftypes.IPv6, nil, nil, "address" }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. "_port", ftypes.UINT16, nil, nil, "port" }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. ".flowinfo", ftypes.UINT32 }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. ".scope_id", ftypes.UINT32 }
      FIELD_SPECS[#FIELD_SPECS + 1] = { prefix .. ".bytes", ftypes.STRING }
    end
    -- Activity bitmaps: the descriptor's and one per medium of the detailed counts.
    local bitmap_owners = { "activity_bitmap" }
    for _, medium in ipairs(MEDIA) do
      bitmap_owners[#bitmap_owners + 1] = medium .. ".activity_bitmap"
      FIELD_SPECS[#FIELD_SPECS + 1] = { medium, ftypes.NONE }
      for _, key in ipairs({ "rx_packets", "rx_bytes", "tx_packets", "tx_bytes" }) do
        FIELD_SPECS[#FIELD_SPECS + 1] = { medium .. "." .. key, ftypes.UINT64 }
      end
    end
    for _, owner in ipairs(bitmap_owners) do
      FIELD_SPECS[#FIELD_SPECS + 1] = { owner, ftypes.NONE }
      FIELD_SPECS[#FIELD_SPECS + 1] = { owner .. ".start", ftypes.UINT64 }
      FIELD_SPECS[#FIELD_SPECS + 1] = { owner .. ".bitmap", ftypes.NONE }
      FIELD_SPECS[#FIELD_SPECS + 1] = { owner .. ".word", ftypes.UINT64, base.HEX }
    end

    local FIELDS, FIELD_TYPES = {}, {}
    for _, spec in ipairs(FIELD_SPECS) do
      local suffix, ftype, display, strings = spec[1], spec[2], spec[3], spec[4]
      FIELD_TYPES[suffix] = ftype
      local label = spec[5] or suffix:match("([%w_]+)$")
      if ftype == ftypes.UINT8 or ftype == ftypes.UINT16 or ftype == ftypes.UINT32 or ftype == ftypes.UINT64
        or ftype == ftypes.INT32 or ftype == ftypes.INT64 then
        FIELDS[suffix] = ProtoField.new(label, "ntstat." .. suffix, ftype, strings, display or base.DEC)
      else
        FIELDS[suffix] = ProtoField.new(label, "ntstat." .. suffix, ftype)
      end
    end
    -- Bit fields under the flag strings (decoration: the string is the JSON value).
    local BIT_FIELDS = { ["flags.bits"] = {}, ["ifnet_properties.bits"] = {} }
    for _, pair in ipairs(MESSAGE_FLAGS) do
      local f = ProtoField.bool("ntstat.flag." .. pair[2]:lower(), pair[2], 16, nil, pair[1])
      table.insert(BIT_FIELDS["flags.bits"], f)
    end
    for _, pair in ipairs(IFNET_PROPERTIES) do
      local f = ProtoField.bool("ntstat.ifnet_flag." .. pair[2]:lower(), pair[2], 32, nil, pair[1])
      table.insert(BIT_FIELDS["ifnet_properties.bits"], f)
    end
    -- Facts carried over from earlier frames (decoration, not part of the message).
    local source_field = ProtoField.new("source", "ntstat.source", ftypes.NONE)
    local family_field = ProtoField.new("family", "ntstat.family", ftypes.STRING)
    local direction_field = ProtoField.new("direction", "ntstat.direction", ftypes.STRING)

    local all_fields = { source_field, family_field, direction_field }
    for _, f in pairs(FIELDS) do all_fields[#all_fields + 1] = f end
    for _, list in pairs(BIT_FIELDS) do
      for _, f in ipairs(list) do all_fields[#all_fields + 1] = f end
    end
    ntstat.fields = all_fields

    local expert_malformed = ProtoExpert.new("ntstat.expert.malformed", "Malformed ntstat message", expert.group.MALFORMED,
      expert.severity.ERROR)
    local expert_family = ProtoExpert.new("ntstat.expert.family_guess", "Layout family detected from struct sizes",
      expert.group.ASSUMPTION, expert.severity.NOTE)
    local expert_extra = ProtoExpert.new("ntstat.expert.extra_bytes", "Bytes past the family's struct", expert.group.PROTOCOL,
      expert.severity.WARN)
    local expert_unknown = ProtoExpert.new("ntstat.expert.unknown_type", "Message type this family does not define",
      expert.group.UNDECODED, expert.severity.WARN)
    ntstat.experts = { expert_malformed, expert_family, expert_extra, expert_unknown }

    local family_choices = { { 1, "auto (interface description, else struct sizes)", 0 } }
    for index, name in ipairs(FAMILY_ORDER) do family_choices[#family_choices + 1] = { index + 1, name, index } end
    ntstat.prefs.family = Pref.enum("Layout family", 0, "The XNU layout family to decode with; auto reads the "
      .. "family the recorder wrote into the interface description, else detects it from struct sizes",
      family_choices, false)

    local interface_description = Field.new("frame.interface_description")

    -- Per capture: the family chosen for each frame on the first pass (so that a redissection
    -- agrees with it), detection scores, and what each source reference was last described as.
    local frame_family, frame_source = {}, {}
    local scores, sources = {}, {}
    function ntstat.init()
      frame_family, frame_source, scores, sources = {}, {}, {}, {}
    end

    local function detected_family(tvb, outbound)
      local best, best_score = nil, -1
      for _, name in ipairs(FAMILY_ORDER) do
        if fits(tvb, FAMILIES[name], outbound) then scores[name] = (scores[name] or 0) + 1 end
        local score = scores[name] or 0
        -- Ties go to the newest family, as FamilyDetection.swift does.
        if score >= best_score then best, best_score = name, score end
      end
      return best
    end

    local function choose_family(pinfo, tvb, outbound)
      if ntstat.prefs.family ~= 0 then return FAMILY_ORDER[ntstat.prefs.family], "preference" end
      -- The description is read afresh every time: tshark's first pass of two (-2) builds no tree,
      -- so the field is missing there and the frame is decoded on a guess, which the second pass,
      -- with the tree, then corrects.
      local description = interface_description()
      local named = description and tostring(description.value):match("%((xnu%-[%d%.]+)%)")
      if named and FAMILIES[named] then return named, "interface description" end
      local known = frame_family[pinfo.number]
      if known then return known, "struct sizes" end
      local name = detected_family(tvb, outbound)
      if not pinfo.visited then frame_family[pinfo.number] = name end
      return name, "struct sizes"
    end

    local function add_node(tree, tvb, n)
      local field = FIELDS[n.f]
      if not field then error("no field for " .. tostring(n.f)) end
      local range = tvb(n.o, n.w)
      local item
      if n.c then
        item = tree:add(field, range)
        if n.array then item:append_text(" (" .. #n.c .. ")") end
        for _, child in ipairs(n.c) do add_node(item, tvb, child) end
        if n.k:match("^%[") then item:set_text(n.k) end
        return item
      end
      if n.v == "ipv4" and n.f:match("_addr$") or n.v == "ipv6" and n.f:match("_addr6$") or n.v == "guid" then
        item = tree:add(field, range)
      else
        local value = n.v
        -- A counter that is 32 bits in one struct and 64 in another (rx_duplicate_bytes).
        if type(value) == "number" and FIELD_TYPES[n.f] == ftypes.UINT64 then value = UInt64(value) end
        item = tree:add(field, range, value)
      end
      if n.k:match("^%[") then item:set_text(n.k .. ": " .. tostring(n.v)) end
      -- Provider numbers differ by family, so they cannot be a fixed value string.
      if n.note then item:append_text(" (" .. n.note .. ")") end
      if n.bits then
        for _, bit in ipairs(BIT_FIELDS[n.bits.field]) do item:add_le(bit, range) end
      end
      return item
    end

    local function find(children, key)
      for _, child in ipairs(children or {}) do
        if child.k == key then return child end
      end
    end

    local function endpoint(children, key)
      local a = find(children, key)
      if not a then return "?" end
      local address, port = find(a.c, "address"), find(a.c, "port")
      if not address then
        local family = (find(a.c, "family") or {}).v
        return family == "unspecified" and "*" or family or "?"
      end
      return address.text .. ":" .. tostring(port.v)
    end

    -- Adds `text` forms to address nodes (for the Info column) from the tvb.
    local function address_texts(tvb, children)
      for _, child in ipairs(children or {}) do
        if child.c then address_texts(tvb, child.c) end
        if child.v == "ipv4" and child.k == "address" then child.text = tostring(tvb(child.o, 4):ipv4()) end
        if child.v == "ipv6" and child.k == "address" then child.text = "[" .. tostring(tvb(child.o, 16):ipv6()) .. "]" end
      end
    end

    local function with_commas(value)
      local text = tostring(value)
      local result = text:reverse():gsub("(%d%d%d)", "%1,"):reverse()
      return (result:gsub("^,", ""))
    end

    local function info_line(message, tvb, known)
      local s = message.summary
      local parts = { s.type }
      if s.provider and not s.descriptor then parts[#parts + 1] = s.provider end
      if s.srcref then parts[#parts + 1] = "ref " .. s.srcref end
      if known and known.pname then parts[#parts + 1] = "(" .. known.pname .. ")" end
      if s.descriptor then
        address_texts(tvb, s.descriptor)
        local kind = find(s.descriptor, "kind").v
        parts[#parts + 1] = s.provider or kind
        if find(s.descriptor, "local") then
          parts[#parts + 1] = endpoint(s.descriptor, "local") .. " → " .. endpoint(s.descriptor, "remote")
        end
        local pid, pname = find(s.descriptor, "pid"), find(s.descriptor, "pname")
        if pid then parts[#parts + 1] = "pid " .. tostring(pid.v) .. " (" .. (pname and pname.v or "") .. ")" end
        local name = find(s.descriptor, "name")
        if name then parts[#parts + 1] = name.v end
      end
      if s.counts then
        local c = s.counts.c
        local rx = find(c, "rx_bytes") or find(find(c, "total") and find(c, "total").c, "rx_bytes")
        local tx = find(c, "tx_bytes") or find(find(c, "total") and find(c, "total").c, "tx_bytes")
        if rx and tx then parts[#parts + 1] = "rx " .. with_commas(rx.v) .. " tx " .. with_commas(tx.v) end
      end
      if s.error then parts[#parts + 1] = s.error .. (s.failed and (" for " .. s.failed) or "") end
      return table.concat(parts, " ")
    end

    -- What an earlier description said about a source, for messages that carry only its reference.
    local function remember(message, frame)
      local s = message.summary
      if s.srcref and s.descriptor then
        local pid, pname = find(s.descriptor, "pid"), find(s.descriptor, "pname")
        sources[s.srcref] = { pid = pid and pid.v, pname = pname and pname.v, provider = s.provider, frame = frame }
      end
    end

    local function add_source(tree, tvb, message, key)
      local known = frame_source[key]
      if not known then return end
      local item = tree:add(source_field, tvb(0, 0))
      item:set_text("[Source described in frame " .. known.frame .. "]")
      item:set_generated()
      if known.pid then item:add(FIELDS.pid, tvb(0, 0), known.pid):set_generated() end
      if known.pname then item:add(FIELDS.pname, tvb(0, 0), known.pname):set_generated() end
      if known.provider then item:add(FIELDS.provider_name, tvb(0, 0), known.provider):set_generated() end
    end

    local function dissect(tvb, pinfo, tree)
      pinfo.cols.protocol = "ntstat"
      local outbound
      if pinfo.p2p_dir == 0 then
        outbound = true
      elseif pinfo.p2p_dir == 1 then
        outbound = false
      else
        -- No direction recorded: requests are numbered 1001-1999.
        local type_value = tvb:len() >= 12 and tvb(8, 4):le_uint() or 0
        outbound = type_value >= 1001 and type_value <= 1999
      end
      pinfo.cols.src = outbound and "client" or "kernel"
      pinfo.cols.dst = outbound and "kernel" or "client"
      local name, how = choose_family(pinfo, tvb, outbound)
      local family = FAMILIES[name]
      local root = tree:add(ntstat, tvb())
      root:append_text(", " .. name .. (outbound and ", client → kernel" or ", kernel → client"))
      local f = root:add(family_field, tvb(0, 0), name)
      f:append_text(" (" .. how .. ")")
      f:set_generated()
      if how == "struct sizes" then f:add_proto_expert_info(expert_family) end
      root:add(direction_field, tvb(0, 0), outbound and "out" or "in"):set_generated()

      local messages, err = decode_datagram(tvb, family, outbound)
      local lines = {}
      for index, message in ipairs(messages) do
        local item = add_node(root, tvb, message.node)
        item:set_text(message.summary.type .. (message.summary.srcref and (" ref " .. message.summary.srcref) or ""))
        if message.summary.unknown then item:add_proto_expert_info(expert_unknown) end
        if message.summary.extra then item:add_proto_expert_info(expert_extra) end
        local key = pinfo.number .. ":" .. index
        if not pinfo.visited then
          remember(message, pinfo.number)
          if message.summary.srcref and not message.summary.descriptor then frame_source[key] = sources[message.summary.srcref] end
        end
        add_source(item, tvb, message, key)
        lines[#lines + 1] = info_line(message, tvb, frame_source[key])
      end
      if err then
        local offset = math.min(err.offset or 0, tvb:len())
        local item = root:add_proto_expert_info(expert_malformed, err.reason .. " (offset " .. offset .. ")")
        lines[#lines + 1] = "[Malformed: " .. err.reason .. "]"
      end
      local info = table.concat(lines, " | ")
      if #info > 512 then info = info:sub(1, 509) .. "..." end
      pinfo.cols.info = info
      return tvb:len()
    end

    function ntstat.dissector(tvb, pinfo, tree)
      local ok, result = pcall(dissect, tvb, pinfo, tree)
      if ok then return result end
      -- A fault of this script, not of the capture: shown, never raised to Wireshark.
      tree:add_proto_expert_info(expert_malformed, "ntstat.lua could not dissect this frame: " .. tostring(result))
      return tvb:len()
    end

    -- LINKTYPE_USER0 (DLT 147) is the link type ntstat's recorder writes. To decode another USER
    -- DLT instead, change this number, or map that DLT to "ntstat" in Wireshark's DLT_USER table.
    local WTAP_ENCAP_USER0 = (wtap_encaps and wtap_encaps.USER0) or 45
    DissectorTable.get("wtap_encap"):add(WTAP_ENCAP_USER0, ntstat)
    """#
}
