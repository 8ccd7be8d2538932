namespace Capstan.Transport.Grpc;

using Capstan.Protocol.Transport;
using Capstan.Runtime.Transport;
using Google.Protobuf;
using global::Grpc.Core;

/// <summary>Upper bounds of a frame's encoded size.</summary>
internal static class FrameSizing
{
    /// <summary>
    /// The most bytes a frame's fields other than its messages take: from_capture, changefeed, role
    /// (tag + one byte) and sequence (tag + a 10-byte varint at most).
    /// </summary>
    public static int HeaderBytes(string fromCapture, string changefeed) =>
        1 + CodedOutputStream.ComputeStringSize(fromCapture)
        + 1 + CodedOutputStream.ComputeStringSize(changefeed)
        + 2
        + 11;

    /// <summary>The bytes one message of <paramref name="size"/> bytes adds to a frame (tag, length, body).</summary>
    public static int MessageBytes(int size) => 1 + CodedOutputStream.ComputeLengthSize(size) + size;

    /// <summary>Maps a transport role to the wire role.</summary>
    public static Role ToWire(TransportRole role) => role == TransportRole.Agent ? Role.Agent : Role.Scheduler;
}

/// <summary>
/// Cuts a drained send buffer into frames: one frame per (changefeed, role) at a time, at most
/// <c>batchMaxMessages</c> messages and <c>maxFrameBytes</c> bytes each, messages of one key in
/// the order they were sent. Used by one peer's writer loop only.
/// </summary>
internal sealed class FrameBatcher
{
    private readonly string _self;
    private readonly int _maxFrameBytes;
    private readonly int _batchMaxMessages;
    private readonly List<OpenFrame> _open = [];
    private ulong _sequence;

    public FrameBatcher(string self, int maxFrameBytes, int batchMaxMessages)
    {
        _self = self;
        _maxFrameBytes = maxFrameBytes;
        _batchMaxMessages = batchMaxMessages;
    }

    /// <summary>Messages of the current batch written so far (to count what a broken stream lost).</summary>
    public int Written { get; private set; }

    /// <summary>Frames per stream are numbered from 1; call when a new stream starts.</summary>
    public void StartStream() => _sequence = 0;

    /// <summary>Writes every message of <paramref name="batch"/> in frames; counts into <paramref name="peer"/>.</summary>
    public async Task WriteAsync(List<PendingMessage> batch, IClientStreamWriter<Frame> stream, PeerConnection peer, CancellationToken cancellationToken)
    {
        Written = 0;
        _open.Clear();
        foreach (var pending in batch)
        {
            var open = Find(pending.Key);
            int bytes = FrameSizing.MessageBytes(pending.Size);
            if (open is not null && (open.Frame.Messages.Count >= _batchMaxMessages || open.Bytes + bytes > _maxFrameBytes))
            {
                _open.Remove(open);
                await WriteFrameAsync(open, stream, peer, cancellationToken).ConfigureAwait(false);
                open = null;
            }

            if (open is null)
            {
                open = new OpenFrame(pending.Key, new Frame
                {
                    FromCapture = _self,
                    Changefeed = pending.Key.Changefeed.Value,
                    Role = FrameSizing.ToWire(pending.Key.Role),
                }, FrameSizing.HeaderBytes(_self, pending.Key.Changefeed.Value));
                _open.Add(open);
            }

            open.Frame.Messages.Add(pending.Message);
            open.Bytes += bytes;
        }

        for (int index = 0; index < _open.Count; index++)
        {
            await WriteFrameAsync(_open[index], stream, peer, cancellationToken).ConfigureAwait(false);
        }

        _open.Clear();
    }

    private OpenFrame? Find(EndpointKey key)
    {
        // A batch rarely spans more than a few changefeeds: a linear search beats a dictionary.
        for (int index = _open.Count - 1; index >= 0; index--)
        {
            if (_open[index].Key == key)
            {
                return _open[index];
            }
        }

        return null;
    }

    private async Task WriteFrameAsync(OpenFrame open, IClientStreamWriter<Frame> stream, PeerConnection peer, CancellationToken cancellationToken)
    {
        open.Frame.Sequence = ++_sequence;
        await stream.WriteAsync(open.Frame, cancellationToken).ConfigureAwait(false);
        int count = open.Frame.Messages.Count;
        Written += count;
        peer.Count(Counter.SentFrames);
        peer.Count(Counter.SentMessages, count);
    }

    private sealed class OpenFrame(EndpointKey key, Frame frame, int bytes)
    {
        public EndpointKey Key { get; } = key;

        public Frame Frame { get; } = frame;

        public int Bytes { get; set; } = bytes;
    }
}
