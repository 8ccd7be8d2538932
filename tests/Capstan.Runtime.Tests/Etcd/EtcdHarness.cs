namespace Capstan.Runtime.Tests.Etcd;

using Capstan.Etcd;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Tests.Contracts;
using Capstan.Runtime.Tests.Support;
using dotnet_etcd;
using Etcdserverpb;

/// <summary>
/// One cluster on a shared etcd: a key prefix of its own, one client (and watch) per node, and an
/// admin client that plays the outside world (revoking leases, counting keys).
/// </summary>
public sealed class EtcdHarness : IClusterHarness
{
    private static int s_clusters;
    private readonly EtcdServer _server;
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<EtcdClient> _clients = [];

    /// <summary>A cluster on <paramref name="server"/> with the given settings (its prefix is made unique).</summary>
    public EtcdHarness(EtcdServer server, EtcdClusterOptions options)
    {
        _server = server;
        Options = options with { ClusterPrefix = $"{options.ClusterPrefix}-{Interlocked.Increment(ref s_clusters)}" };
        Admin = EtcdClientFactory.Create(server.Endpoint);
        _clients.Add(Admin);
    }

    /// <summary>The cluster's settings.</summary>
    public EtcdClusterOptions Options { get; }

    /// <summary>A client that is never cut off.</summary>
    public EtcdClient Admin { get; }

    /// <inheritdoc/>
    public Task<ClusterNode> AddNodeAsync() => AddNodeAsync(_server.Endpoint);

    /// <summary>A node that talks to etcd through <paramref name="endpoint"/> (e.g. a partition proxy).</summary>
    public async Task<ClusterNode> AddNodeAsync(string endpoint)
    {
        var client = EtcdClientFactory.Create(endpoint);
        _clients.Add(client);
        var membership = await Eventually.CompletesAsync(
            EtcdMembership.StartAsync(client, Options, CancellationToken.None), "the membership has read the captures");
        _owned.Add(membership);
        return new ClusterNode(membership, new EtcdOwnerElection(client, Options), new EtcdMetadataStore(client, Options));
    }

    /// <inheritdoc/>
    public async Task LoseSessionAsync(ICaptureSession session)
    {
        var leaseId = ((EtcdCaptureSession)session).LeaseId;
        await Admin.LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId });
    }

    /// <inheritdoc/>
    public async Task<int> CampaignCountAsync()
    {
        var prefix = $"/{Options.ClusterPrefix}/owner/";
        var response = await Admin.GetRangeAsync(prefix);
        return response.Kvs.Count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
