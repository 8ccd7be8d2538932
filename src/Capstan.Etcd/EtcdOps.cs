namespace Capstan.Etcd;

using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

/// <summary>
/// The etcd calls the cluster types share: every unary call gets <see cref="EtcdClusterOptions.CallTimeout"/>
/// as its deadline; watches run on raw gRPC streams (not dotnet-etcd's WatchManager, which
/// re-registers watches on its own and reports that with Console.WriteLine) so that a broken
/// stream is noticed here and followed by a fresh read.
/// </summary>
internal sealed class EtcdOps(EtcdClient client, EtcdClusterOptions options)
{
    public EtcdClient Client { get; } = client;

    public EtcdClusterOptions Options { get; } = options;

    public ILogger Logger => Options.Logger;

    public DateTime Deadline() => DateTime.UtcNow + Options.CallTimeout;

    public Task<RangeResponse> GetAsync(string key, CancellationToken cancellationToken) =>
        Client.GetAsync(new RangeRequest { Key = EtcdKeys.Bytes(key) }, null, Deadline(), cancellationToken);

    public Task<RangeResponse> GetPrefixAsync(string prefix, CancellationToken cancellationToken) =>
        Client.GetAsync(PrefixRange(prefix), null, Deadline(), cancellationToken);

    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken) =>
        Client.GetAsync(request, null, Deadline(), cancellationToken);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        Client.TransactionAsync(request, null, Deadline(), cancellationToken);

    public static RangeRequest PrefixRange(string prefix) =>
        new() { Key = EtcdKeys.Bytes(prefix), RangeEnd = EtcdKeys.RangeEnd(prefix) };

    public static Compare CreateRevisionIs(string key, long revision) => new()
    {
        Key = EtcdKeys.Bytes(key),
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };

    public static Compare ModRevisionIs(string key, long revision) => new()
    {
        Key = EtcdKeys.Bytes(key),
        Target = Compare.Types.CompareTarget.Mod,
        Result = Compare.Types.CompareResult.Equal,
        ModRevision = revision,
    };

    public static RequestOp Put(string key, string value, long leaseId = 0) => new()
    {
        RequestPut = new PutRequest { Key = EtcdKeys.Bytes(key), Value = ByteString.CopyFromUtf8(value), Lease = leaseId },
    };

    public static RequestOp Range(string key) => new() { RequestRange = new RangeRequest { Key = EtcdKeys.Bytes(key) } };

    public static RequestOp Delete(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = EtcdKeys.Bytes(key) } };

    /// <summary>Waits before the next retry and returns the following backoff.</summary>
    public async Task<TimeSpan> BackoffAsync(TimeSpan backoff, CancellationToken cancellationToken)
    {
        await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
        var next = backoff * 2;
        return next > Options.MaxRetryBackoff ? Options.MaxRetryBackoff : next;
    }

    /// <summary>True for failures worth retrying: etcd unreachable, a broken stream, a missed deadline.</summary>
    public static bool IsTransient(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && exception is RpcException or IOException or HttpRequestException
            or TimeoutException or OperationCanceledException or ObjectDisposedException;

    /// <summary>Runs <paramref name="call"/> until it succeeds, retrying transient failures with backoff.</summary>
    public async Task<T> RetryAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var backoff = Options.InitialRetryBackoff;
        while (true)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Logger.LogDebug(ex, "etcd: {What} failed, retrying in {Backoff}", what, backoff);
                backoff = await BackoffAsync(backoff, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Follows every key under <paramref name="prefix"/>: reads them all (<paramref name="onSnapshot"/>),
    /// then watches from the revision after that read (<paramref name="onEvents"/>); when the stream
    /// breaks or is cancelled by etcd (compaction), reads everything again. Callbacks run one at a
    /// time on this loop. Returns when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task FollowPrefixAsync(
        string prefix,
        Action<RangeResponse> onSnapshot,
        Action<IReadOnlyList<Event>, long> onEvents,
        CancellationToken cancellationToken)
    {
        var backoff = Options.InitialRetryBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var snapshot = await GetPrefixAsync(prefix, cancellationToken).ConfigureAwait(false);
                onSnapshot(snapshot);
                var request = new WatchCreateRequest
                {
                    Key = EtcdKeys.Bytes(prefix),
                    RangeEnd = EtcdKeys.RangeEnd(prefix),
                    StartRevision = snapshot.Header.Revision + 1,
                };
                await WatchAsync(request, response =>
                {
                    backoff = Options.InitialRetryBackoff;
                    if (response.Events.Count > 0)
                    {
                        onEvents(response.Events, response.Header.Revision);
                    }

                    return false;
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Logger.LogDebug(ex, "etcd: watch of {Prefix} broke; reading it again", prefix);
            }

            try
            {
                backoff = await BackoffAsync(backoff, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Completes when <paramref name="key"/> (the incarnation created at <paramref name="createRevision"/>)
    /// is deleted at or after <paramref name="startRevision"/>. Survives broken streams by checking the key again.
    /// </summary>
    public async Task WaitForDeleteAsync(string key, long createRevision, long startRevision, CancellationToken cancellationToken)
    {
        var backoff = Options.InitialRetryBackoff;
        while (true)
        {
            try
            {
                var request = new WatchCreateRequest { Key = EtcdKeys.Bytes(key), StartRevision = startRevision };
                request.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
                var deleted = false;
                await WatchAsync(request, response => deleted = response.Events.Count > 0, cancellationToken).ConfigureAwait(false);
                if (deleted)
                {
                    return;
                }
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Logger.LogDebug(ex, "etcd: watch of {Key} broke; checking it again", key);
            }

            backoff = await BackoffAsync(backoff, cancellationToken).ConfigureAwait(false);
            try
            {
                var current = await GetAsync(key, cancellationToken).ConfigureAwait(false);
                if (current.Kvs.Count == 0 || current.Kvs[0].CreateRevision != createRevision)
                {
                    return;
                }

                startRevision = current.Header.Revision + 1;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Logger.LogDebug(ex, "etcd: reading {Key} failed", key);
            }
        }
    }

    /// <summary>
    /// Runs one watch stream until <paramref name="onResponse"/> returns true, etcd cancels the
    /// watch (e.g. its start revision was compacted), or the stream ends. Throws when the stream breaks.
    /// </summary>
    private async Task WatchAsync(WatchCreateRequest create, Func<WatchResponse, bool> onResponse, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var call = Client.GetConnection().WatchClient.Watch(cancellationToken: stop.Token);
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, stop.Token).ConfigureAwait(false);
        try
        {
            while (await call.ResponseStream.MoveNext(stop.Token).ConfigureAwait(false))
            {
                var response = call.ResponseStream.Current;
                if (response.Canceled)
                {
                    Logger.LogDebug("etcd: watch cancelled by etcd ({Reason}, compact revision {Compact})",
                        response.CancelReason, response.CompactRevision);
                    return;
                }

                if (onResponse(response))
                {
                    return;
                }
            }
        }
        finally
        {
            // Ends the stream on every exit, so etcd drops the watcher.
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }
}
