namespace Capstan.Transport.Grpc.Tests.Support;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>Scheduler messages for tests; every field survives the wire unchanged.</summary>
public static class TestMessages
{
    public static Header Header(long revision = 7) => new("8.5.0", new OwnerRevision(revision), new ProcessorEpoch("epoch-1"), new ChangefeedEpoch(3));

    /// <summary>Coordinator → agent heartbeat naming span <paramref name="table"/>.</summary>
    public static Message Heartbeat(CaptureId from, CaptureId to, long table) => new()
    {
        Header = Header(),
        Type = MessageType.Heartbeat,
        From = from,
        To = to,
        Heartbeat = new Heartbeat { Spans = [new Span(table)] },
    };

    /// <summary>Agent → coordinator heartbeat response reporting span <paramref name="table"/> replicating.</summary>
    public static Message Response(CaptureId from, CaptureId to, long table) => new()
    {
        Header = Header(),
        Type = MessageType.HeartbeatResponse,
        From = from,
        To = to,
        HeartbeatResponse = new HeartbeatResponse
        {
            Tables = [new TableStatus(new Span(table), TableState.Replicating, Checkpoint.At(new Ts((ulong)table * 10)))],
        },
    };

    /// <summary>A heartbeat listing <paramref name="spans"/> spans with 16-byte keys (≈ 45 bytes each on the wire).</summary>
    public static Message BigHeartbeat(CaptureId from, CaptureId to, int spans)
    {
        var list = new Span[spans];
        for (int index = 0; index < spans; index++)
        {
            var start = new byte[16];
            var end = new byte[16];
            BitConverter.TryWriteBytes(start, (long)index);
            BitConverter.TryWriteBytes(end, (long)index + 1);
            list[index] = new Span(index + 1, start, end);
        }

        return new Message { Header = Header(), Type = MessageType.Heartbeat, From = from, To = to, Heartbeat = new Heartbeat { Spans = list } };
    }
}
