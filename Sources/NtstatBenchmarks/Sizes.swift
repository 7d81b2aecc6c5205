import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

func printSizes() {
  print(
    "Message", MemoryLayout<Message>.size, "Body", MemoryLayout<MessageBody>.size, "Counts", MemoryLayout<Counts>.size,
    "SourceCounts", MemoryLayout<SourceCounts>.size, "AddSourceRequest", MemoryLayout<AddSourceRequest>.size,
    "SocketAddress", MemoryLayout<SocketAddress>.size, "SysinfoCounts", MemoryLayout<SysinfoCounts>.size, "ErrorReply",
    MemoryLayout<ErrorReply>.size, "AddAll", MemoryLayout<AddAllSourcesRequest>.size, "WireError",
    MemoryLayout<WireError>.size)
  print(
    "CaptureRecord", MemoryLayout<CaptureRecord>.size, "CapturedFrame", MemoryLayout<CapturedFrame>.size,
    "CaptureMetadata", MemoryLayout<CaptureMetadata>.size, "NetworkStream", MemoryLayout<NetworkStream>.size,
    "ClientEvent", MemoryLayout<ClientEvent>.size, "TransportInput", MemoryLayout<TransportInput>.size)
}
