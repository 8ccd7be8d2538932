namespace Capstan.Etcd;

using Capstan.Core.Model;
using Capstan.Runtime.Membership;
using dotnet_etcd;
using Etcdserverpb;
using Microsoft.Extensions.Logging;

/// <summary>
/// Owner election in etcd, the lease + transaction recipe of etcd's <c>concurrency.Election</c>:
/// <list type="number">
/// <item>a campaigner creates <c>/{prefix}/owner/{leaseIdHex}</c> attached to its session lease,
/// only if absent (<c>Compare(CreateRevision == 0)</c>), else reads the key it already has;</item>
/// <item>the key with the smallest create revision is the owner, so the campaigner waits until every key
/// created before its own is deleted (resigned, or its lease expired), watching the nearest one at a time;</item>
/// <item>its owner revision is its key's create revision, which is larger than that of every earlier term.</item>
/// </list>
/// The term ends (<see cref="IOwnerLease.Lost"/>) when the key disappears or the session is lost.
/// Owner-only writes are guarded with <c>Compare(CreateRevision(ownerKey) == revision)</c> in the
/// same transaction (see <see cref="EtcdMetadataStore"/>). Sessions must come from an <see cref="EtcdMembership"/>.
/// </summary>
public sealed class EtcdOwnerElection : IOwnerElection
{
    private readonly EtcdOps _ops;
    private readonly EtcdKeys _keys;

    /// <summary>An election over <paramref name="client"/>; the caller keeps ownership of the client.</summary>
    public EtcdOwnerElection(EtcdClient client, EtcdClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _ops = new EtcdOps(client, options);
        _keys = new EtcdKeys(options.ClusterPrefix);
    }

    /// <inheritdoc/>
    public async Task<IOwnerLease> CampaignAsync(ICaptureSession session, CancellationToken cancellationToken)
    {
        if (session is not EtcdCaptureSession etcdSession)
        {
            throw new ArgumentException("the session must come from an EtcdMembership", nameof(session));
        }

        using var campaign = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Lost);
        var token = campaign.Token;
        token.ThrowIfCancellationRequested();
        var key = _keys.Owner(etcdSession.LeaseId);
        long revision = 0;
        try
        {
            revision = await _ops.RetryAsync("create the owner key", ct => CreateKeyAsync(key, etcdSession, ct), token).ConfigureAwait(false);
            await WaitForPredecessorsAsync(revision, token).ConfigureAwait(false);
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Withdraw, or the key would make this capture the owner later, unasked.
            await TryDeleteAsync(key, revision).ConfigureAwait(false);

            cancellationToken.ThrowIfCancellationRequested();
            session.Lost.ThrowIfCancellationRequested();
            throw;
        }

        _ops.Logger.LogInformation("etcd election: capture {Capture} is the owner (revision {Revision})", session.Capture.Id, revision);
        return EtcdOwnerLease.Start(this, etcdSession, key, new OwnerRevision(revision));
    }

    /// <inheritdoc/>
    public async Task<OwnerInfoRecord?> GetOwnerAsync(CancellationToken cancellationToken)
    {
        var request = EtcdOps.PrefixRange(_keys.OwnerPrefix);
        request.SortTarget = RangeRequest.Types.SortTarget.Create;
        request.SortOrder = RangeRequest.Types.SortOrder.Ascend;
        request.Limit = 1;
        var response = await _ops.RangeAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.Kvs.Count == 0)
        {
            return null;
        }

        var kv = response.Kvs[0];
        return new OwnerInfoRecord(new CaptureId(kv.Value.ToStringUtf8()), new OwnerRevision(kv.CreateRevision));
    }

    internal EtcdOps Ops => _ops;

    /// <summary>Deletes the owner key created at <paramref name="revision"/> (any incarnation when 0).</summary>
    internal async Task<bool> DeleteKeyAsync(string key, long revision, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        if (revision != 0)
        {
            txn.Compare.Add(EtcdOps.CreateRevisionIs(key, revision));
        }

        txn.Success.Add(EtcdOps.Delete(key));
        var response = await _ops.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <summary>Creates the campaign key if absent and returns its create revision.</summary>
    private async Task<long> CreateKeyAsync(string key, EtcdCaptureSession session, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdOps.CreateRevisionIs(key, 0));
        txn.Success.Add(EtcdOps.Put(key, session.Capture.Id.Value, session.LeaseId));
        txn.Failure.Add(EtcdOps.Range(key));
        var response = await _ops.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
        if (response.Succeeded)
        {
            return response.Header.Revision;
        }

        var existing = response.Responses[0].ResponseRange.Kvs;
        if (existing.Count == 0)
        {
            throw new TimeoutException("the owner key vanished between compare and read; trying again");
        }

        return existing[0].CreateRevision;
    }

    /// <summary>Waits until no owner key created before <paramref name="revision"/> is left.</summary>
    private async Task WaitForPredecessorsAsync(long revision, CancellationToken cancellationToken)
    {
        while (true)
        {
            var request = EtcdOps.PrefixRange(_keys.OwnerPrefix);
            request.MaxCreateRevision = revision - 1;
            request.SortTarget = RangeRequest.Types.SortTarget.Create;
            request.SortOrder = RangeRequest.Types.SortOrder.Descend;
            request.Limit = 1;
            var response = await _ops.RetryAsync("list earlier owner keys", ct => _ops.RangeAsync(request, ct), cancellationToken)
                .ConfigureAwait(false);
            if (response.Kvs.Count == 0)
            {
                return;
            }

            var predecessor = response.Kvs[0];
            await _ops.WaitForDeleteAsync(
                predecessor.Key.ToStringUtf8(), predecessor.CreateRevision, response.Header.Revision + 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task TryDeleteAsync(string key, long revision)
    {
        try
        {
            await DeleteKeyAsync(key, revision, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (EtcdOps.IsTransient(ex, CancellationToken.None))
        {
            _ops.Logger.LogWarning(ex, "etcd election: could not withdraw {Key}; it goes when the session lease ends", key);
        }
    }
}

/// <summary>
/// One owner term in etcd: the owner key and its create revision. Status writes are guarded by
/// the key in etcd, not by <see cref="Lost"/>: while the key exists nobody else can be the owner.
/// </summary>
internal sealed class EtcdOwnerLease : IOwnerLease
{
    private readonly EtcdOwnerElection _election;
    private readonly EtcdCaptureSession _session;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private CancellationTokenRegistration _onSessionLost;
    private Task _watch = Task.CompletedTask;
    private Task? _deletion;

    private EtcdOwnerLease(EtcdOwnerElection election, EtcdCaptureSession session, string key, OwnerRevision revision)
    {
        _election = election;
        _session = session;
        Owner = session.Capture.Id;
        Key = key;
        Revision = revision;
    }

    /// <inheritdoc/>
    public CaptureId Owner { get; }

    /// <inheritdoc/>
    public OwnerRevision Revision { get; }

    /// <summary>The owner key of this term.</summary>
    public string Key { get; }

    /// <inheritdoc/>
    public CancellationToken Lost => _lost.Token;

    public static EtcdOwnerLease Start(EtcdOwnerElection election, EtcdCaptureSession session, string key, OwnerRevision revision)
    {
        var lease = new EtcdOwnerLease(election, session, key, revision);
        lease._onSessionLost = session.Lost.Register(() => lease.End("the session was lost"));
        lease._watch = Task.Run(lease.WatchKeyAsync);
        return lease;
    }

    /// <summary>
    /// Ends the term here at once, then deletes the owner key. If etcd cannot be reached the
    /// deletion goes on in the background until it succeeds or the session ends (a lost or
    /// disposed session revokes its lease, which deletes the key too), so a resigned owner never
    /// blocks the next one for longer than etcd is away.
    /// </summary>
    public Task ResignAsync(CancellationToken cancellationToken)
    {
        // Stop acting as owner before the key goes, so two owners never overlap locally.
        End("resigned");
        Task deletion;
        lock (_gate)
        {
            deletion = _deletion ??= Task.Run(DeleteKeyAsync);
        }

        return deletion.WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        using var patience = new CancellationTokenSource(_election.Ops.Options.CallTimeout);
        try
        {
            await ResignAsync(patience.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _election.Ops.Logger.LogWarning("etcd election: {Key} not deleted yet; still trying in the background", Key);
        }

        await _watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task DeleteKeyAsync()
    {
        try
        {
            await _election.Ops.RetryAsync(
                "delete the owner key", ct => _election.DeleteKeyAsync(Key, Revision.Value, ct), _session.Lost).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_session.Lost.IsCancellationRequested)
        {
            // The session's lease is revoked or expires; the key goes with it.
        }
    }

    private async Task WatchKeyAsync()
    {
        try
        {
            await _election.Ops.WaitForDeleteAsync(Key, Revision.Value, Revision.Value + 1, _stop.Token).ConfigureAwait(false);
            End("the owner key was deleted");
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // The term ended otherwise; a stream cut by the stop may fail with any error.
        }
        catch (Exception ex)
        {
            _election.Ops.Logger.LogError(ex, "etcd election: watching the owner key failed unexpectedly");
            End("watching the owner key failed");
        }
    }

    private void End(string reason)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        if (reason != "resigned")
        {
            _election.Ops.Logger.LogWarning("etcd election: {Capture} is no longer the owner (revision {Revision}): {Reason}", Owner, Revision, reason);
        }

        _lost.Cancel();
        _stop.Cancel();
        _onSessionLost.Dispose();
    }
}
