namespace Capstan.Runtime.Membership;

using System.Collections.Frozen;
using Capstan.Core.Member;
using Capstan.Core.Model;

/// <summary>
/// Membership for the embedded default (all captures in one process). A session lasts until it
/// is disposed, until <see cref="Expire"/> ends it (what a lease expiry does in a real cluster;
/// simulators and tests call it), or until the same capture registers again (the newer
/// registration wins and the older session is lost). Thread-safe.
/// </summary>
public sealed class InProcessMembership : IMembership
{
    private readonly Lock _gate = new();

    /// <summary>The live session of each registered capture.</summary>
    private readonly Dictionary<CaptureId, Session> _sessions = [];

    /// <summary>Immutable snapshot of the registered captures, replaced on every change.</summary>
    private volatile IReadOnlyDictionary<CaptureId, CaptureInfo> _alive = FrozenDictionary<CaptureId, CaptureInfo>.Empty;

    private bool _disposed;

    /// <inheritdoc/>
    public IReadOnlyDictionary<CaptureId, CaptureInfo> AliveCaptures => _alive;

    /// <inheritdoc/>
    public event Action? CapturesChanged;

    /// <inheritdoc/>
    public Task<ICaptureSession> RegisterAsync(CaptureInfo capture, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(capture);
        cancellationToken.ThrowIfCancellationRequested();
        var session = new Session(this, capture);
        Session? replaced;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _sessions.TryGetValue(capture.Id, out replaced);
            _sessions[capture.Id] = session;
            PublishLocked();
        }

        replaced?.MarkLost();
        CapturesChanged?.Invoke();
        return Task.FromResult<ICaptureSession>(session);
    }

    /// <summary>
    /// Ends the current session of <paramref name="capture"/> as a lease expiry would: the capture
    /// leaves <see cref="AliveCaptures"/> and its session's <see cref="ICaptureSession.Lost"/> is
    /// cancelled. Returns false when the capture has no session.
    /// </summary>
    public bool Expire(CaptureId capture)
    {
        Session? session;
        lock (_gate)
        {
            if (!_sessions.Remove(capture, out session))
            {
                return false;
            }

            PublishLocked();
        }

        session.MarkLost();
        CapturesChanged?.Invoke();
        return true;
    }

    /// <summary>Ends every session.</summary>
    public ValueTask DisposeAsync()
    {
        Session[] sessions;
        lock (_gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            sessions = [.. _sessions.Values];
            _sessions.Clear();
            PublishLocked();
        }

        foreach (var session in sessions)
        {
            session.MarkLost();
        }

        if (sessions.Length > 0)
        {
            CapturesChanged?.Invoke();
        }

        return ValueTask.CompletedTask;
    }

    private void Leave(Session session)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(session.Capture.Id, out var current) || !ReferenceEquals(current, session))
            {
                return;
            }

            _sessions.Remove(session.Capture.Id);
            PublishLocked();
        }

        CapturesChanged?.Invoke();
    }

    private void PublishLocked()
    {
        var alive = new Dictionary<CaptureId, CaptureInfo>(_sessions.Count);
        foreach (var (id, session) in _sessions)
        {
            alive[id] = session.Capture;
        }

        _alive = alive.ToFrozenDictionary();
    }

    /// <summary>One registration; lost at most once.</summary>
    private sealed class Session(InProcessMembership membership, CaptureInfo capture) : ICaptureSession
    {
        private readonly CancellationTokenSource _lost = new();
        private int _disposed;

        public CaptureInfo Capture { get; } = capture;

        public CancellationToken Lost => _lost.Token;

        public void MarkLost() => _lost.Cancel();

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                membership.Leave(this);
                MarkLost();
            }

            return ValueTask.CompletedTask;
        }
    }
}
