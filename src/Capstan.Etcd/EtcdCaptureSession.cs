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
/// this capture's tables — and a fresh lease is granted and the key written again (only if no
/// newer registration of the capture exists), so the capture reappears as alive.
/// </para>
/// <para>
/// Like etcd's clientv3 lessor, the session also counts as lost once the last confirmed
/// renewal is older than its TTL (the keep-alive deadline passed): by then etcd may have expired
/// the lease, so the capture must fence itself even while etcd cannot be reached.
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

    /// <summary>How often the lease was replaced after it expired.</summary>
    public int Reregistrations { get; private set; }

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
            await session.RevokeAsync().ConfigureAwait(false);
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
        await RevokeAsync().ConfigureAwait(false);
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
            bool expired;
            try
            {
                expired = await KeepAliveAsync(LeaseId, stop).ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (EtcdOps.IsTransient(ex, stop) || ex is EndOfStreamException)
            {
                _ops.Logger.LogInformation(ex, "etcd session: keep-alive of lease {Lease:x} failed; checking the lease", LeaseId);
                expired = false;
            }

            await RecoverAsync(expired, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Renews the lease until etcd reports it expired (returns true) or the stream fails (throws).</summary>
    private async Task<bool> KeepAliveAsync(long leaseId, CancellationToken stop)
    {
        using var call = _ops.Client.GetConnection().LeaseClient.LeaseKeepAlive(cancellationToken: stop);
        var request = new LeaseKeepAliveRequest { ID = leaseId };
        var answerTimeout = TimeSpan.FromMilliseconds(Math.Min(_ops.Options.CallTimeout.TotalMilliseconds, _ttlSeconds * 1000));
        while (true)
        {
            var sentAt = Now;
            await call.RequestStream.WriteAsync(request, stop).ConfigureAwait(false);
            using (var answered = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                answered.CancelAfter(answerTimeout);
                bool more;
                try
                {
                    more = await call.ResponseStream.MoveNext(answered.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
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
            await Task.Delay(TimeSpan.FromMilliseconds(answer.TTL * 1000 / 3.0), stop).ConfigureAwait(false);
        }
    }

    /// <summary>Checks the lease after a keep-alive failure; replaces it and registers again when it expired.</summary>
    private async Task RecoverAsync(bool expired, CancellationToken stop)
    {
        var backoff = _ops.Options.InitialRetryBackoff;
        var mustRegister = false;
        while (true)
        {
            try
            {
                if (!expired)
                {
                    var sentAt = Now;
                    var ttl = await _ops.Client.LeaseTimeToLiveAsync(
                        new LeaseTimeToLiveRequest { ID = LeaseId }, null, _ops.Deadline(), stop).ConfigureAwait(false);
                    expired = ttl.TTL <= 0;
                    if (!expired)
                    {
                        ExtendDeadline(sentAt + (ttl.TTL * 1000));
                    }
                }

                if (expired)
                {
                    MarkLost($"lease {LeaseId:x} expired");
                    await GrantAsync(stop).ConfigureAwait(false);
                    expired = false;
                    mustRegister = true;
                }

                if (mustRegister)
                {
                    await RegisterAgainAsync(stop).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception ex) when (EtcdOps.IsTransient(ex, stop))
            {
                _ops.Logger.LogDebug(ex, "etcd session: etcd not reachable yet; retrying in {Backoff}", backoff);
                backoff = await _ops.BackoffAsync(backoff, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task GrantAsync(CancellationToken cancellationToken)
    {
        var sentAt = Now;
        var grant = await _ops.Client.LeaseGrantAsync(
            new LeaseGrantRequest { TTL = _ttlSeconds }, null, _ops.Deadline(), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _leaseId, grant.ID);
        Volatile.Write(ref _deadline, sentAt + (grant.TTL * 1000));
    }

    /// <summary>Writes the capture key under the new lease unless a newer registration exists.</summary>
    private async Task RegisterAgainAsync(CancellationToken stop)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdOps.CreateRevisionIs(_key, 0));
        txn.Success.Add(EtcdOps.Put(_key, _value, LeaseId));
        var response = await _ops.TxnAsync(txn, stop).ConfigureAwait(false);
        Reregistrations++;
        if (response.Succeeded)
        {
            Volatile.Write(ref _registeredRevision, response.Header.Revision);
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

    private async Task RevokeAsync()
    {
        try
        {
            await _ops.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = LeaseId }, null, _ops.Deadline(), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // Already expired or revoked: its keys are gone.
        }
        catch (Exception ex) when (EtcdOps.IsTransient(ex, CancellationToken.None))
        {
            _ops.Logger.LogWarning(ex, "etcd session: could not revoke lease {Lease:x}; it expires after its TTL", LeaseId);
        }
    }
}
