namespace Capstan.Etcd;

using System.Collections.Frozen;
using System.Text.Json;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Runtime.Membership;
using dotnet_etcd;
using Etcdserverpb;
using Microsoft.Extensions.Logging;
using Mvccpb;

/// <summary>
/// Membership in etcd. Each capture registers <c>/{prefix}/captures/{id}</c> attached to its
/// session lease (see <see cref="EtcdCaptureSession"/> for how the lease survives etcd restarts);
/// a watch on the captures prefix keeps <see cref="AliveCaptures"/> current, reading the prefix
/// again whenever the watch stream breaks. Create with <see cref="StartAsync"/>. Thread-safe.
/// </summary>
public sealed class EtcdMembership : IMembership
{
    private readonly EtcdOps _ops;
    private readonly EtcdKeys _keys;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstSnapshot = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    /// <summary>The registered captures as last observed, by id. Guarded by <see cref="_gate"/>.</summary>
    private readonly Dictionary<CaptureId, KeyValue> _registered = [];

    /// <summary>Sessions registered through this instance. Guarded by <see cref="_gate"/>.</summary>
    private readonly Dictionary<CaptureId, EtcdCaptureSession> _sessions = [];

    private volatile IReadOnlyDictionary<CaptureId, CaptureInfo> _alive = FrozenDictionary<CaptureId, CaptureInfo>.Empty;

    /// <summary>The etcd revision the view reflects. Guarded by <see cref="_gate"/>.</summary>
    private long _revision;

    private Task _follow = Task.CompletedTask;
    private int _disposed;

    private EtcdMembership(EtcdClient client, EtcdClusterOptions options)
    {
        options.Validate();
        _ops = new EtcdOps(client, options);
        _keys = new EtcdKeys(options.ClusterPrefix);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<CaptureId, CaptureInfo> AliveCaptures => _alive;

    /// <summary>The etcd revision <see cref="AliveCaptures"/> reflects.</summary>
    public long ObservedRevision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    /// <inheritdoc/>
    public event Action? CapturesChanged;

    /// <summary>
    /// Starts following the captures of the cluster and completes once they have been read
    /// (waiting for etcd to be reachable). The caller keeps ownership of <paramref name="client"/>.
    /// </summary>
    public static async Task<EtcdMembership> StartAsync(EtcdClient client, EtcdClusterOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var membership = new EtcdMembership(client, options);
        membership._follow = Task.Run(membership.FollowSafelyAsync);
        try
        {
            await membership._firstSnapshot.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await membership.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return membership;
    }

    /// <inheritdoc/>
    public async Task<ICaptureSession> RegisterAsync(CaptureInfo capture, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(capture);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var session = await EtcdCaptureSession.RegisterAsync(
            _ops, _keys.Capture(capture.Id), capture, EncodeCapture(capture), Forget, cancellationToken).ConfigureAwait(false);
        EtcdCaptureSession? replaced;
        lock (_gate)
        {
            _sessions.TryGetValue(capture.Id, out replaced);
            _sessions[capture.Id] = session;
        }

        replaced?.MarkLost("the capture registered again");
        return session;
    }

    /// <summary>Stops following the captures and ends every session registered through this instance.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _follow.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        EtcdCaptureSession[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
        }

        foreach (var session in sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Follows the captures prefix; an unexpected failure (a bug) is logged and fails <see cref="StartAsync"/>.</summary>
    private async Task FollowSafelyAsync()
    {
        try
        {
            await _ops.FollowPrefixAsync(_keys.CapturesPrefix, OnSnapshot, OnEvents, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopping; a stream cut by the stop may fail with any error.
        }
        catch (Exception ex)
        {
            _ops.Logger.LogError(ex, "etcd membership: following the captures failed unexpectedly; the view is frozen");
            _firstSnapshot.TrySetException(ex);
        }
    }

    internal static string EncodeCapture(CaptureInfo capture) =>
        JsonSerializer.Serialize(
            new CaptureDocument(capture.Id.Value, capture.Address, capture.Version, capture.ApiAddress.Length == 0 ? null : capture.ApiAddress),
            EtcdJson.Options);

    internal static CaptureInfo? DecodeCapture(KeyValue kv)
    {
        try
        {
            var document = JsonSerializer.Deserialize<CaptureDocument>(kv.Value.Span, EtcdJson.Options);
            return document is null
                ? null
                : new CaptureInfo(new CaptureId(document.Id), document.Address ?? "", document.Version ?? "") { ApiAddress = document.ApiAddress ?? "" };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Forget(EtcdCaptureSession session)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(session.Capture.Id, out var current) && ReferenceEquals(current, session))
            {
                _sessions.Remove(session.Capture.Id);
            }
        }
    }

    private void OnSnapshot(RangeResponse snapshot)
    {
        List<(EtcdCaptureSession Session, string Reason)> lost = [];
        bool changed;
        lock (_gate)
        {
            _registered.Clear();
            foreach (var kv in snapshot.Kvs)
            {
                _registered[IdOf(kv)] = kv;
            }

            _revision = snapshot.Header.Revision;
            foreach (var session in _sessions.Values)
            {
                _registered.TryGetValue(session.Capture.Id, out var kv);
                CheckRegistration(session, kv, snapshot.Header.Revision, lost);
            }

            changed = PublishLocked();
        }

        _firstSnapshot.TrySetResult();
        Notify(lost, changed);
    }

    private void OnEvents(IReadOnlyList<Event> events, long revision)
    {
        List<(EtcdCaptureSession Session, string Reason)> lost = [];
        bool changed;
        lock (_gate)
        {
            foreach (var e in events)
            {
                var id = IdOf(e.Kv);
                var isPut = e.Type == Event.Types.EventType.Put;
                if (isPut)
                {
                    _registered[id] = e.Kv;
                }
                else
                {
                    _registered.Remove(id);
                }

                if (_sessions.TryGetValue(id, out var session))
                {
                    CheckRegistration(session, isPut ? e.Kv : null, e.Kv.ModRevision, lost);
                }
            }

            _revision = Math.Max(_revision, revision);
            changed = PublishLocked();
        }

        Notify(lost, changed);
    }

    /// <summary>
    /// A local session whose key was deleted or rewritten under another lease after it registered
    /// is lost: its lease expired, or a newer registration of the same capture took over.
    /// </summary>
    private static void CheckRegistration(EtcdCaptureSession session, KeyValue? kv, long revision, List<(EtcdCaptureSession, string)> lost)
    {
        if (revision <= session.RegisteredRevision)
        {
            return;
        }

        if (kv is null)
        {
            lost.Add((session, "its registration was deleted"));
        }
        else if (kv.Lease != session.LeaseId && kv.ModRevision > session.RegisteredRevision)
        {
            lost.Add((session, "its registration was rewritten under another lease"));
        }
    }

    /// <summary>Publishes a new <see cref="AliveCaptures"/>; true when it differs from the previous one.</summary>
    private bool PublishLocked()
    {
        var alive = new Dictionary<CaptureId, CaptureInfo>(_registered.Count);
        foreach (var (id, kv) in _registered)
        {
            if (DecodeCapture(kv) is { } capture)
            {
                alive[id] = capture with { Id = id };
            }
            else
            {
                _ops.Logger.LogWarning("etcd membership: ignoring unreadable registration {Key}", kv.Key.ToStringUtf8());
            }
        }

        var previous = _alive;
        if (previous.Count == alive.Count && alive.All(p => previous.TryGetValue(p.Key, out var c) && c == p.Value))
        {
            return false;
        }

        _alive = alive.ToFrozenDictionary();
        return true;
    }

    private void Notify(List<(EtcdCaptureSession Session, string Reason)> lost, bool changed)
    {
        foreach (var (session, reason) in lost)
        {
            session.MarkLost(reason);
        }

        if (!changed)
        {
            return;
        }

        try
        {
            CapturesChanged?.Invoke();
        }
        catch (Exception ex)
        {
            _ops.Logger.LogError(ex, "etcd membership: a CapturesChanged handler threw");
        }
    }

    private CaptureId IdOf(KeyValue kv) => new(kv.Key.ToStringUtf8()[_keys.CapturesPrefix.Length..]);

    private sealed record CaptureDocument(string Id, string? Address, string? Version, string? ApiAddress = null);
}
