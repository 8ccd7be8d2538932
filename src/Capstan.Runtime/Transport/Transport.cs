namespace Capstan.Runtime.Transport;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>Which end of a changefeed's scheduler protocol a message is for.</summary>
public enum TransportRole
{
    /// <summary>Messages to agents (heartbeats, dispatch requests).</summary>
    Agent = 1,

    /// <summary>Messages to the coordinator (responses).</summary>
    Scheduler = 2,
}

/// <summary>
/// The message layer between captures. Per (changefeed, role) there is one bounded inbox;
/// <see cref="IMessageEndpoint.Send"/> never blocks and reports what it could not enqueue (counted backpressure,
/// never a silent drop of a whole batch). Messages may be lost, duplicated, delayed or
/// reordered: the protocol tolerates it.
/// Implementations: <c>InProcessTransport</c> (embedded default) and <c>GrpcTransport</c>.
/// </summary>
public interface IMessageTransport : IAsyncDisposable
{
    /// <summary>Opens the endpoint of <paramref name="self"/> for a changefeed and role.</summary>
    IMessageEndpoint Open(CaptureId self, ChangefeedId changefeed, TransportRole role);
}

/// <summary>One (capture, changefeed, role) endpoint.</summary>
public interface IMessageEndpoint : IDisposable
{
    /// <summary>Takes everything received since the last call (never blocks).</summary>
    IReadOnlyList<Message> Receive();

    /// <summary>
    /// Queues messages to their <c>To</c> captures (for the peer role). Returns how many were
    /// accepted; the rest were refused (peer unknown or its buffer full) and are counted.
    /// </summary>
    int Send(IReadOnlyList<Message> messages);

    /// <summary>Signalled when messages arrive (lets a host loop wake early); optional.</summary>
    event Action? MessagesArrived;
}
