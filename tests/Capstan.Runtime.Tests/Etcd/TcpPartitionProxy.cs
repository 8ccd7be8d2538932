namespace Capstan.Runtime.Tests.Etcd;

using System.Net;
using System.Net.Sockets;

/// <summary>
/// A loopback TCP proxy in front of etcd that can cut one capture off: <see cref="Partition"/>
/// silently drops every byte both ways (connections stay open, as in a real network partition,
/// so only timeouts notice); <see cref="Heal"/> closes the cut connections, so clients reconnect,
/// and forwards again.
/// </summary>
public sealed class TcpPartitionProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Link> _links = [];
    private readonly Task _accepting;
    private volatile bool _partitioned;

    /// <summary>Forwards a fresh loopback port to <paramref name="targetPort"/>.</summary>
    public TcpPartitionProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The proxy's client URL.</summary>
    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Starts dropping all traffic.</summary>
    public void Partition()
    {
        lock (_gate)
        {
            _partitioned = true;
            foreach (var link in _links)
            {
                link.Cut = true;
            }
        }
    }

    /// <summary>Closes the cut connections and forwards again.</summary>
    public void Heal()
    {
        Link[] cut;
        lock (_gate)
        {
            _partitioned = false;
            cut = [.. _links.Where(l => l.Cut)];
            _links.RemoveAll(l => l.Cut);
        }

        foreach (var link in cut)
        {
            link.Close();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_gate)
        {
            foreach (var link in _links)
            {
                link.Close();
            }

            _links.Clear();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var link = new Link(client);
            lock (_gate)
            {
                link.Cut = _partitioned;
                _links.Add(link);
            }

            _ = Task.Run(() => RunAsync(link));
        }
    }

    private async Task RunAsync(Link link)
    {
        try
        {
            if (link.Cut)
            {
                await DrainAsync(link.Client.GetStream(), link);
                return;
            }

            await link.Server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            var up = PumpAsync(link.Client.GetStream(), link.Server.GetStream(), link);
            var down = PumpAsync(link.Server.GetStream(), link.Client.GetStream(), link);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The connection ended.
        }
        finally
        {
            link.Close();
        }
    }

    private static async Task PumpAsync(NetworkStream from, NetworkStream to, Link link)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            if (!link.Cut)
            {
                await to.WriteAsync(buffer.AsMemory(0, read));
            }
        }
    }

    private static async Task DrainAsync(NetworkStream from, Link link)
    {
        var buffer = new byte[16 * 1024];
        while (link.Cut && await from.ReadAsync(buffer) > 0)
        {
        }
    }

    private sealed class Link(TcpClient client)
    {
        public TcpClient Client { get; } = client;

        public TcpClient Server { get; } = new();

        public volatile bool Cut;

        public void Close()
        {
            Client.Close();
            Server.Close();
        }
    }
}
