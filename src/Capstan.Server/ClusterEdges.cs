namespace Capstan.Server;

using System.Diagnostics;
using Capstan.Etcd;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Server.Configuration;
using dotnet_etcd;
using Microsoft.Extensions.Logging;

/// <summary>
/// Membership, owner election and metadata of the cluster this server joins: etcd when
/// <see cref="ServerSettings.Etcd"/> is set, otherwise the embedded in-process default (one
/// capture, nothing persisted). Status writes are counted (<see cref="CountingMetadataStore"/>).
/// </summary>
public sealed class ClusterEdges : IAsyncDisposable
{
    private readonly EtcdClient? _client;

    private ClusterEdges(IMembership membership, IOwnerElection election, IMetadataStore metadata, EtcdClient? client, string description)
    {
        Membership = membership;
        Election = election;
        Metadata = new CountingMetadataStore(metadata);
        _client = client;
        Description = description;
    }

    /// <summary>Who is alive.</summary>
    public IMembership Membership { get; }

    /// <summary>Who is the owner.</summary>
    public IOwnerElection Election { get; }

    /// <summary>Changefeeds and checkpoints (counting status writes).</summary>
    public CountingMetadataStore Metadata { get; }

    /// <summary>True for the embedded in-process default.</summary>
    public bool IsEmbedded => _client is null;

    /// <summary>"etcd http://…" or "embedded".</summary>
    public string Description { get; }

    /// <summary>Connects: for etcd, waits until the captures of the cluster could be read (logging while etcd is unreachable).</summary>
    public static async Task<ClusterEdges> ConnectAsync(ServerSettings settings, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (settings.IsEmbedded)
        {
            var election = new InProcessOwnerElection();
            return new ClusterEdges(new InProcessMembership(), election, new InMemoryMetadataStore(election), null, "embedded (in-process, not persisted)");
        }

        var endpoints = settings.EtcdEndpoints();
        var log = loggers.CreateLogger("Capstan.Server");
        var client = EtcdClientFactory.Create(endpoints);
        try
        {
            var options = new EtcdClusterOptions
            {
                ClusterPrefix = settings.ClusterPrefix,
                SessionTtl = settings.SessionTtl,
                CallTimeout = settings.EtcdCallTimeout,
                Logger = loggers.CreateLogger("Capstan.Etcd"),
            };
            var watch = Stopwatch.StartNew();
            var starting = EtcdMembership.StartAsync(client, options, cancellationToken);
            while (!starting.IsCompleted)
            {
                var waited = await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
                if (waited != starting)
                {
                    log.LogWarning("waiting for etcd at {Endpoints} ({Seconds:0} s so far)", endpoints, watch.Elapsed.TotalSeconds);
                }
            }

            var membership = await starting.ConfigureAwait(false);
            return new ClusterEdges(
                membership, new EtcdOwnerElection(client, options), new EtcdMetadataStore(client, options), client,
                $"etcd {endpoints} prefix /{settings.ClusterPrefix.Trim('/')}/");
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Ends every session (the capture leaves membership) and closes the etcd client.</summary>
    public async ValueTask DisposeAsync()
    {
        await Membership.DisposeAsync().ConfigureAwait(false);
        _client?.Dispose();
    }
}

/// <summary>Status-write counts of this process (what the owner persisted, and what etcd refused).</summary>
/// <param name="Accepted">Writes that were stored.</param>
/// <param name="Refused">Writes refused because the writer's owner term was over (a deposed owner).</param>
/// <param name="Failed">Writes that failed (etcd unreachable, timeout); retried by the owner's next tick.</param>
public sealed record StatusWriteCounts(long Accepted, long Refused, long Failed);

/// <summary>
/// Passes everything through to the store, counting status writes and logging a refused one
/// (the owner of that term was deposed: another capture is the owner now).
/// </summary>
public sealed class CountingMetadataStore(IMetadataStore inner) : IMetadataStore
{
    private long _accepted;
    private long _refused;
    private long _failed;

    /// <summary>Where refusals are reported; set once the host's logging exists.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>The counts so far.</summary>
    public StatusWriteCounts Counts => new(Interlocked.Read(ref _accepted), Interlocked.Read(ref _refused), Interlocked.Read(ref _failed));

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChangefeedInfo>> ListChangefeedsAsync(CancellationToken cancellationToken) =>
        inner.ListChangefeedsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<ChangefeedInfo?> GetChangefeedAsync(Core.Model.ChangefeedId id, CancellationToken cancellationToken) =>
        inner.GetChangefeedAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task PutChangefeedAsync(ChangefeedInfo info, CancellationToken cancellationToken) => inner.PutChangefeedAsync(info, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> RemoveChangefeedAsync(Core.Model.ChangefeedId id, CancellationToken cancellationToken) =>
        inner.RemoveChangefeedAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task<ChangefeedStatus?> GetStatusAsync(Core.Model.ChangefeedId id, CancellationToken cancellationToken) =>
        inner.GetStatusAsync(id, cancellationToken);

    /// <inheritdoc/>
    public async Task<bool> TryPutStatusAsync(
        Core.Model.ChangefeedId id, ChangefeedStatus status, IOwnerLease owner, CancellationToken cancellationToken)
    {
        bool written;
        try
        {
            written = await inner.TryPutStatusAsync(id, status, owner, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failed);
            throw;
        }

        if (written)
        {
            Interlocked.Increment(ref _accepted);
        }
        else
        {
            Interlocked.Increment(ref _refused);
            Logger?.LogWarning(
                "checkpoint write for changefeed {Changefeed} refused: owner term {Revision} of {Owner} is over (deposed); this capture stops acting as owner",
                id, owner.Revision, owner.Owner);
        }

        return written;
    }
}
