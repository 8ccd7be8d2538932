namespace Capstan.Runtime.Transport;

using Capstan.Core.Protocol;

/// <summary>How an inbox took a message.</summary>
public enum InboxResult
{
    /// <summary>The message is in the inbox.</summary>
    Accepted,

    /// <summary>The inbox holds its capacity already; the message was refused.</summary>
    Full,

    /// <summary>The inbox is closed; the message was refused.</summary>
    Closed,
}

/// <summary>
/// The bounded inbox of one transport endpoint: any number of writers, one reader (the endpoint's
/// host loop). Double-buffered: <see cref="TakeAll"/> swaps the filled list for the one it handed
/// out last time, so a steady-state receive allocates nothing; the returned list is valid until the
/// next call. When a message lands in an empty inbox, the <c>arrived</c> callback given at
/// construction runs on the writer's thread, outside the inbox's lock (an endpoint raises its
/// <see cref="IMessageEndpoint.MessagesArrived"/> event from it). Shared by the in-process and the
/// gRPC transports.
/// </summary>
public sealed class MessageInbox
{
    private readonly Lock _gate = new();
    private readonly Action? _arrived;
    private List<Message> _incoming = [];
    private List<Message> _handedOut = [];
    private bool _closed;

    /// <summary>Creates an open, empty inbox.</summary>
    /// <param name="capacity">Messages it holds before refusing more (≥ 1).</param>
    /// <param name="arrived">Runs when a message lands in the empty inbox; optional.</param>
    public MessageInbox(int capacity, Action? arrived = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _arrived = arrived;
    }

    /// <summary>Messages it holds before refusing more.</summary>
    public int Capacity { get; }

    /// <summary>True after <see cref="Close"/>.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Takes every message received since the last call (empty after <see cref="Close"/>).</summary>
    public IReadOnlyList<Message> TakeAll()
    {
        lock (_gate)
        {
            _handedOut.Clear();
            (_incoming, _handedOut) = (_handedOut, _incoming);
        }

        return _handedOut;
    }

    /// <summary>Puts one message into the inbox unless it is full or closed.</summary>
    public InboxResult TryAdd(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        bool wasEmpty;
        lock (_gate)
        {
            if (_closed)
            {
                return InboxResult.Closed;
            }

            if (_incoming.Count >= Capacity)
            {
                return InboxResult.Full;
            }

            wasEmpty = _incoming.Count == 0;
            _incoming.Add(message);
        }

        if (wasEmpty)
        {
            _arrived?.Invoke();
        }

        return InboxResult.Accepted;
    }

    /// <summary>
    /// Puts as many of <paramref name="messages"/> as fit into the inbox, in order; returns how many
    /// (the rest are refused), or -1 when the inbox is closed.
    /// </summary>
    public int TryAddRange(IReadOnlyList<Message> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        int taken;
        bool wasEmpty;
        lock (_gate)
        {
            if (_closed)
            {
                return -1;
            }

            taken = Math.Min(messages.Count, Capacity - _incoming.Count);
            wasEmpty = _incoming.Count == 0;
            for (int index = 0; index < taken; index++)
            {
                _incoming.Add(messages[index]);
            }
        }

        if (wasEmpty && taken > 0)
        {
            _arrived?.Invoke();
        }

        return taken;
    }

    /// <summary>Closes the inbox and drops what it holds; false when it was already closed.</summary>
    public bool Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _closed = true;
            _incoming.Clear();
            return true;
        }
    }
}
