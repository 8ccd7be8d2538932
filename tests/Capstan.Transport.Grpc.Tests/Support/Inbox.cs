namespace Capstan.Transport.Grpc.Tests.Support;

using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;

/// <summary>Collects what an endpoint receives (Receive's list is only valid until the next call).</summary>
public sealed class Inbox(IMessageEndpoint endpoint)
{
    private readonly List<Message> _all = [];
    private readonly object _gate = new();

    public IMessageEndpoint Endpoint { get; } = endpoint;

    public IReadOnlyList<Message> All
    {
        get
        {
            Poll();
            lock (_gate)
            {
                return [.. _all];
            }
        }
    }

    public int Count => All.Count;

    public void Poll()
    {
        lock (_gate)
        {
            _all.AddRange(Endpoint.Receive());
        }
    }

    public Task WaitForAsync(int count, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => Count >= count, () => $"{Endpoint} received {Count} of {count} messages", timeout);
}
