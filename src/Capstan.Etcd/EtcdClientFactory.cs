namespace Capstan.Etcd;

using dotnet_etcd;

/// <summary>Creates etcd clients tuned for session keep-alive and watches.</summary>
public static class EtcdClientFactory
{
    /// <summary>
    /// A client for <paramref name="endpoints"/> (e.g. <c>http://127.0.0.1:2379</c>, comma-separated
    /// for several). HTTP/2 pings detect a silently dead connection within ~15 s so that streams
    /// (watches) fail and reconnect; the ping delay stays above etcd's 5 s
    /// <c>--grpc-keepalive-min-time</c>, and pings are sent only while calls are active, as etcd
    /// rejects pings on idle connections. Reconnect attempts back off to at most 1 s. The caller
    /// disposes the client.
    /// </summary>
    public static EtcdClient Create(string endpoints)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoints);
        return new EtcdClient(endpoints, configureChannelOptions: options =>
        {
            // gRPC's default reconnect backoff grows to 120 s, so after a long etcd outage the
            // client could stay away long after etcd is back and sessions would expire needlessly.
            options.InitialReconnectBackoff = TimeSpan.FromMilliseconds(100);
            options.MaxReconnectBackoff = TimeSpan.FromSeconds(1);
            if (options.HttpHandler is SocketsHttpHandler handler)
            {
                handler.KeepAlivePingDelay = TimeSpan.FromSeconds(10);
                handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
                handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
                handler.ConnectTimeout = TimeSpan.FromSeconds(3);
            }
        });
    }
}
