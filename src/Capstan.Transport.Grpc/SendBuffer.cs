namespace Capstan.Transport.Grpc;

using Capstan.Runtime.Transport;
using Wire = Capstan.Protocol.Wire;

/// <summary>A message waiting to be written to a peer: already mapped to its wire form and sized.</summary>
/// <param name="Key">The changefeed and the role on the peer it is addressed to.</param>
/// <param name="Message">The wire message.</param>
/// <param name="Size">Its encoded size in bytes.</param>
internal readonly record struct PendingMessage(EndpointKey Key, Wire.Message Message, int Size);

/// <summary>How a send buffer took a message.</summary>
internal enum EnqueueResult
{
    Accepted,
    Full,
    Closed,
}

/// <summary>
/// The bounded send buffer of one peer: many producers (<c>Send</c> on host threads), one consumer
/// (the peer's writer loop), which takes everything at once with <see cref="Drain"/>.
/// </summary>
/// <remarks>
/// The consumer waits with <see cref="WaitForCountAsync"/> for a threshold (1 = "anything", the
/// batch cap = "a full batch"); the producer that reaches the threshold wakes it. A message is
/// either in the buffer, or taken by the consumer; at most <c>capacity</c> are in the buffer.
/// </remarks>
internal sealed class SendBuffer
{
    private readonly object _gate = new();
    private readonly int _capacity;
    private List<PendingMessage> _incoming = [];
    private TaskCompletionSource? _waiter;
    private int _wakeAt;
    private bool _closed;

    public SendBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
    }

    /// <summary>Messages in the buffer now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _incoming.Count;
            }
        }
    }

    /// <summary>Adds a message unless the buffer is full or closed.</summary>
    public EnqueueResult TryAdd(in PendingMessage message)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            if (_closed)
            {
                return EnqueueResult.Closed;
            }

            if (_incoming.Count >= _capacity)
            {
                return EnqueueResult.Full;
            }

            _incoming.Add(message);
            if (_waiter is not null && _incoming.Count >= _wakeAt)
            {
                wake = _waiter;
                _waiter = null;
            }
        }

        wake?.TrySetResult();
        return EnqueueResult.Accepted;
    }

    /// <summary>
    /// Completes when the buffer holds at least <paramref name="count"/> messages or is closed.
    /// One waiter at a time (the consumer); a new call replaces an older, unfinished wait.
    /// </summary>
    public Task WaitForCountAsync(int count)
    {
        lock (_gate)
        {
            if (_closed || _incoming.Count >= count)
            {
                return Task.CompletedTask;
            }

            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _wakeAt = count;
            return _waiter.Task;
        }
    }

    /// <summary>
    /// Takes every buffered message. <paramref name="spare"/> (cleared here) becomes the new buffer,
    /// so the consumer alternates between two lists and steady-state draining allocates nothing.
    /// </summary>
    public List<PendingMessage> Drain(List<PendingMessage> spare)
    {
        spare.Clear();
        lock (_gate)
        {
            var taken = _incoming;
            _incoming = spare;
            return taken;
        }
    }

    /// <summary>Refuses further messages, wakes the consumer and returns how many were still buffered (then discarded).</summary>
    public int Close()
    {
        TaskCompletionSource? wake;
        int discarded;
        lock (_gate)
        {
            _closed = true;
            discarded = _incoming.Count;
            _incoming.Clear();
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult();
        return discarded;
    }
}
