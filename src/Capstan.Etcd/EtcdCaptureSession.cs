namespace Capstan.Etcd;

using Capstan.Core.Member;
using Capstan.Runtime.Membership;
using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Logging;

/// <summary>
/// One capture's registration: a lease of <see cref="EtcdClusterOptions.SessionTtl"/> and the
/// capture key attached to it.
/// <para>
/// Keep-alive: a loop renews the lease every TTL/3 on a LeaseKeepAlive stream. When the stream
/// faults (etcd restarting, connection lost, no answer in time) the lease is checked with
/// LeaseTimeToLive: if it still exists (etcd restores leases on restart) the keep-alive simply
/// resumes; if it expired, the session is <b>lost</b> — another owner may already have moved
/// this capture's tables.
/// </para>
/// <para>
/// Like etcd's clientv3 lessor, the session also counts as lost once the last confirmed
/// renewal is older than its TTL (the keep-alive deadline passed): by then etcd may have expired
/// the lease, so the capture must fence itself even while etcd cannot be reached. It is also
/// lost when its key is deleted or rewritten under another lease (see <see cref="EtcdMembership"/>).
/// </para>
/// <para>
/// A lost session never keeps its lease: once etcd is reachable the lease is revoked (if it
/// still exists), which also deletes any owner key attached to it, so a term that the capture
/// already gave up cannot block the next owner. Then a fresh lease is granted and the capture key
/// is written again (only if no newer registration of the capture exists), so the capture
/// reappears as alive until the session is disposed.
/// </para>
/// </summary>
internal sealed class EtcdCaptureSession : ICaptureSession
{
    private readonly EtcdOps _ops;
    private readonly string _key;
    private readonly string _value;
    private readonly long _ttlSeconds;
    private readonly Action<EtcdCaptureSession> _onDisposed;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private long _leaseId;
    private long _registeredRevision;
    private int _reregistrations;

    /// <summary>The lease given up when the session was lost; revoked and replaced by the keep-alive loop.</summary>
    private long _retiredLeaseId;

    /// <summary>True while the capture key still has to be written under a replacement lease. Keep-alive loop only.</summary>
    private bool _registrationPending;

    /// <summary>Environment.TickCount64 after which the lease may have expired unnoticed.</summary>
    private long _deadline;

    private Task _supervisor = Task.CompletedTask;
    private Task _watchdog = Task.CompletedTask;
    private int _disposed;

    private EtcdCaptureSession(EtcdOps ops, string key, CaptureInfo capture, string value, Action<EtcdCaptureSession> onDisposed)
    {
        _ops = ops;
        _key = key;
        _value = value;
        Capture = capture;
        _ttlSeconds = (long)ops.Options.SessionTtl.TotalSeconds;
        _onDisposed = onDisposed;
    }

    /// <inheritdoc/>
    public CaptureInfo Capture { get; }

    /// <inheritdoc/>
    public CancellationToken Lost => _lost.Token;

    /// <summary>The lease the capture key is attached to now (changes when an expired lease is replaced).</summary>
    public long LeaseId => Volatile.Read(ref _leaseId);

    /// <summary>The etcd revision of the latest write of the capture key by this session.</summary>
    public long RegisteredRevision => Volatile.Read(ref _registeredRevision);

    /// <summary>How often the capture key was written again under a replacement lease.</summary>
    public int Reregistrations => Volatile.Read(ref _reregistrations);

    private static long Now => Environment.TickCount64;

    /// <summary>Grants a lease, writes the capture key (replacing any older registration) and starts the keep-alive.</summary>
    public static async Task<EtcdCaptureSession> RegisterAsync(
        EtcdOps ops, string key, CaptureInfo capture, string value, Action<EtcdCaptureSession> onDisposed, CancellationToken cancellationToken)
    {
        var session = new EtcdCaptureSession(ops, key, capture, value, onDisposed);
        await session.GrantAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var put = await ops.Client.PutAsync(
                new PutRequest { Key = EtcdKeys.Bytes(key), Value = Google.Protobuf.ByteString.CopyFromUtf8(value), Lease = session.LeaseId },
                null, ops.Deadline(), cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref session._registeredRevision, put.Header.Revision);
        }
        catch
        {
            await session.RevokeQuietlyAsync().ConfigureAwait(false);
            throw;
        }

        ops.Logger.LogInformation("etcd session: capture {Capture} registered under lease {Lease:x} (ttl {Ttl} s)",
            capture.Id, session.LeaseId, session._ttlSeconds);
        session._supervisor = Task.Run(session.SuperviseSafelyAsync);
        session._watchdog = Task.Run(session.WatchdogAsync);
        return session;
    }

    /// <summary>Marks the session lost (once); the capture must fence itself.</summary>
    public void MarkLost(string reason)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        if (Volatile.Read(ref _disposed) == 0)
        {
            _ops.Logger.LogWarning("etcd session: capture {Capture} lost its session: {Reason}", Capture.Id, reason);
        }

        Volatile.Write(ref _retiredLeaseId, LeaseId);

        try
        {
            _lost.Cancel();
        }
        catch (AggregateException ex)
        {
            _ops.Logger.LogError(ex, "etcd session: a Lost callback threw");
        }
    }

    /// <summary>Stops the keep-alive and revokes the lease, which deletes the capture key.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_supervisor, _watchdog).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await RevokeQuietlyAsync().ConfigureAwait(false);
        _onDisposed(this);
        MarkLost("disposed");
    }

    /// <summary>Runs the keep-alive; an unexpected failure (a bug) is logged and fences the capture.</summary>
    private async Task SuperviseSafelyAsync()
    {
        try
        {
            await SuperviseAsync().ConfigureAwait(false);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopping; a stream cut by the stop may fail with any error.
        }
        catch (Exception ex)
        {
            _ops.Logger.LogError(ex, "etcd session: the keep-alive of capture {Capture} failed unexpectedly", Capture.Id);
            MarkLost("the keep-alive failed unexpectedly");
        }
    }

    private async Task SuperviseAsync()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            var expired = false;
            var leaseId = LeaseId;
            if (!IsRetired(leaseId) && !_registrationPending)
            {
                // Until the session is lost, losing it also ends this keep-alive, so the lease is given up at once.
                using var keepAlive = _lost.IsCancellationRequested
                    ? CancellationTokenSource.CreateLinkedTokenSource(stop)
                    : CancellationTokenSource.CreateLinkedTokenSource(stop, _lost.Token);
                try
                {
                    expired = await KeepAliveAsync(leaseId, keepAlive.Token).ConfigureAwait(false);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception) when (keepAlive.IsCancellationRequested)
                {
                    // The session was lost meanwhile.
                }
                catch (Exception ex) when (EtcdOps.IsTransient(ex, stop) || ex is EndOfStreamException)
                {
                    _ops.Logger.LogInformation(ex, "etcd session: keep-alive of lease {Lease:x} failed; checking the lease", leaseId);
                }
            }

            await RecoverAsync(expired, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Renews the lease until etcd reports it expired (returns true) or the stream fails (throws).</summary>
    private async Task<bool> KeepAliveAsync(long leaseId, CancellationToken cancellationToken)
    {
        using var call = _ops.Client.GetConnection().LeaseClient.LeaseKeepAlive(cancellationToken: cancellationToken);
        var request = new LeaseKeepAliveRequest { ID = leaseId };
        var answerTimeout = TimeSpan.FromMilliseconds(Math.Min(_ops.Options.CallTimeout.TotalMilliseconds, _ttlSeconds * 1000));
        while (true)
        {
            var sentAt = Now;
            await call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            using (var answered = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                answered.CancelAfter(answerTimeout);
                bool more;
                try
                {
                    more = await call.ResponseStream.MoveNext(answered.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no keep-alive answer within {answerTimeout}");
                }

                if (!more)
                {
                    throw new EndOfStreamException("the keep-alive stream ended");
                }
            }

            var answer = call.ResponseStream.Current;
            if (answer.TTL <= 0)
            {
                return true;
            }

            ExtendDeadline(sentAt + (answer.TTL * 1000));
            await Task.Delay(TimeSpan.FromMilliseconds(answer.TTL * 1000 / 3.0), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the keep-alive ended: resumes it if the lease is alive and the session not lost;
    /// otherwise marks the session lost, revokes the lease, grants a new one and registers again.
    /// Retries until etcd answers.
    /// </summary>
    private async Task RecoverAsync(bool expired, CancellationToken stop)
    {
        var backoff = _ops.Options.InitialRetryBackoff;
        while (true)
        {
            try
            {
                if (!IsRetired(LeaseId) && !_registrationPending)
                {
                    if (!expired && await IsLeaseAliveAsync(stop).ConfigureAwait(false))
                    {
                        return;
                    }

                    MarkLost($"lease {LeaseId:x} expired");
                    Volatile.Write(ref _retiredLeaseId, LeaseId);
                }

                if (IsRetired(LeaseId))
                {
                    await RevokeAsync(LeaseId, stop).ConfigureAwait(false);
                    await GrantAsync(stop).ConfigureAwait(false);
                    _registrationPending = true;
                }

                await RegisterAgainAsync(stop).ConfigureAwait(false);
                _registrationPending = false;
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound && !stop.IsCancellationRequested)
            {
                // The replacement lease expired before the key was written under it: replace it too.
                _ops.Logger.LogInformation("etcd session: lease {Lease:x} is gone; granting another", LeaseId);
                Volatile.Write(ref _retiredLeaseId, LeaseId);
            }
            catch (Exception ex) when (EtcdOps.IsTransient(ex, stop))
            {
                _ops.Logger.LogDebug(ex, "etcd session: etcd not reachable yet; retrying in {Backoff}", backoff);
                backoff = await _ops.BackoffAsync(backoff, stop).ConfigureAwait(false);
            }
        }
    }

    private bool IsRetired(long leaseId) => leaseId == Volatile.Read(ref _retiredLeaseId);

    private async Task<bool> IsLeaseAliveAsync(CancellationToken stop)
    {
        var sentAt = Now;
        var ttl = await _ops.Client.LeaseTimeToLiveAsync(
            new LeaseTimeToLiveRequest { ID = LeaseId }, null, _ops.Deadline(), stop).ConfigureAwait(false);
        if (ttl.TTL <= 0)
        {
            return false;
        }

        ExtendDeadline(sentAt + (ttl.TTL * 1000));
        return true;
    }

    private async Task GrantAsync(CancellationToken cancellationToken)
    {
        var sentAt = Now;
        var grant = await _ops.Client.LeaseGrantAsync(
            new LeaseGrantRequest { TTL = _ttlSeconds }, null, _ops.Deadline(), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _leaseId, grant.ID);
        Volatile.Write(ref _deadline, sentAt + (grant.TTL * 1000));
    }

    /// <summary>Writes the capture key under the new lease (if still pending) unless a newer registration exists.</summary>
    private async Task RegisterAgainAsync(CancellationToken stop)
    {
        if (!_registrationPending)
        {
            return;
        }

        var txn = new TxnRequest();
        txn.Compare.Add(EtcdOps.CreateRevisionIs(_key, 0));
        txn.Success.Add(EtcdOps.Put(_key, _value, LeaseId));
        var response = await _ops.TxnAsync(txn, stop).ConfigureAwait(false);
        if (response.Succeeded)
        {
            Volatile.Write(ref _registeredRevision, response.Header.Revision);
            Interlocked.Increment(ref _reregistrations);
            _ops.Logger.LogWarning("etcd session: capture {Capture} registered again under lease {Lease:x}", Capture.Id, LeaseId);
        }
        else
        {
            _ops.Logger.LogWarning("etcd session: capture {Capture} was registered again elsewhere; not overwriting it", Capture.Id);
        }
    }

    /// <summary>Marks the session lost when no renewal was confirmed for a whole TTL.</summary>
    private async Task WatchdogAsync()
    {
        var stop = _stop.Token;
        while (!_lost.IsCancellationRequested)
        {
            var remaining = Volatile.Read(ref _deadline) - Now;
            if (remaining <= 0)
            {
                MarkLost("no keep-alive was confirmed within the lease TTL");
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(remaining), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void ExtendDeadline(long deadline)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _deadline);
            if (deadline <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _deadline, deadline, current) != current);
    }

    /// <summary>Revokes <paramref name="leaseId"/>; an already expired lease counts as revoked.</summary>
    private async Task RevokeAsync(long leaseId, CancellationToken cancellationToken)
    {
        try
        {
            await _ops.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId }, null, _ops.Deadline(), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // Already expired or revoked: its keys are gone.
        }
    }

    private async Task RevokeQuietlyAsync()
    {
        try
        {
            await RevokeAsync(LeaseId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (EtcdOps.IsTransient(ex, CancellationToken.None))
        {
            _ops.Logger.LogWarning(ex, "etcd session: could not revoke lease {Lease:x}; it expires after its TTL", LeaseId);
        }
    }
}
