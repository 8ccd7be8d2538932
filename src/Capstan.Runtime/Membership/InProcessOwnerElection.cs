namespace Capstan.Runtime.Membership;

using Capstan.Core.Model;

/// <summary>
/// Owner election for the embedded default. The first campaigner wins; the others wait in
/// campaign order. A term ends when its owner resigns, disposes its lease or loses its session;
/// the next waiting campaigner whose session is still alive then wins. Owner revisions start at
/// 1 and grow by one per term. Thread-safe.
/// </summary>
public sealed class InProcessOwnerElection : IOwnerElection
{
    private readonly Lock _gate = new();

    /// <summary>Campaigners waiting for the current term to end, in campaign order.</summary>
    private readonly LinkedList<Campaign> _waiting = new();

    /// <summary>The current term, or null when there is no owner.</summary>
    private Term? _current;

    /// <summary>The revision of the latest term; 0 before the first.</summary>
    private long _lastRevision;

    /// <inheritdoc/>
    public Task<IOwnerLease> CampaignAsync(ICaptureSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        cancellationToken.ThrowIfCancellationRequested();
        session.Lost.ThrowIfCancellationRequested();
        var campaign = new Campaign(this, session);
        campaign.WatchCancellation(cancellationToken);
        Term? won = null;
        lock (_gate)
        {
            if (_current is null && _waiting.Count == 0)
            {
                won = StartTermLocked(session);
            }
            else
            {
                campaign.Node = _waiting.AddLast(campaign);
            }
        }

        if (won is not null)
        {
            Hand(campaign, won);
        }

        return campaign.Result;
    }

    /// <inheritdoc/>
    public Task<OwnerInfoRecord?> GetOwnerAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var owner = _current is null ? null : new OwnerInfoRecord(_current.Owner, _current.Revision);
            return Task.FromResult(owner);
        }
    }

    /// <summary>How many campaigns are in the election: the owner's (if any) and the waiting ones.</summary>
    public int CampaignCount
    {
        get
        {
            lock (_gate)
            {
                return (_current is null ? 0 : 1) + _waiting.Count;
            }
        }
    }

    /// <summary>True when <paramref name="lease"/> is the current term of this election.</summary>
    public bool IsCurrent(IOwnerLease lease)
    {
        lock (_gate)
        {
            return ReferenceEquals(_current, lease);
        }
    }

    private Term StartTermLocked(ICaptureSession session)
    {
        _lastRevision++;
        _current = new Term(this, session, new OwnerRevision(_lastRevision));
        return _current;
    }

    /// <summary>Ends <paramref name="term"/> if it is current and hands ownership to the next campaigner.</summary>
    private void End(Term term)
    {
        Campaign? next = null;
        Term? successor = null;
        lock (_gate)
        {
            if (!ReferenceEquals(_current, term))
            {
                return;
            }

            _current = null;
            while (_waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                first.Value.Node = null;
                if (!first.Value.IsWithdrawn)
                {
                    next = first.Value;
                    successor = StartTermLocked(next.Session);
                    break;
                }
            }
        }

        term.MarkEnded();
        if (next is not null && successor is not null)
        {
            Hand(next, successor);
        }
    }

    /// <summary>Completes a campaign with its won term; ends the term at once if the campaign was withdrawn meanwhile.</summary>
    private void Hand(Campaign campaign, Term term)
    {
        if (campaign.TryWin(term))
        {
            term.WatchSession();
        }
        else
        {
            End(term);
        }
    }

    private void Withdraw(Campaign campaign)
    {
        lock (_gate)
        {
            if (campaign.Node is not null)
            {
                _waiting.Remove(campaign.Node);
                campaign.Node = null;
            }
        }
    }

    /// <summary>One waiting campaign.</summary>
    private sealed class Campaign(InProcessOwnerElection election, ICaptureSession session)
    {
        private readonly TaskCompletionSource<IOwnerLease> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private CancellationTokenRegistration _onCancel;
        private CancellationTokenRegistration _onSessionLost;

        public ICaptureSession Session { get; } = session;

        /// <summary>Its place in the waiting list; null once removed. Guarded by the election's gate.</summary>
        public LinkedListNode<Campaign>? Node { get; set; }

        public bool IsWithdrawn => _result.Task.IsCompleted || Session.Lost.IsCancellationRequested;

        public Task<IOwnerLease> Result => _result.Task;

        public void WatchCancellation(CancellationToken cancellationToken)
        {
            _onCancel = cancellationToken.Register(() => Cancel(cancellationToken));
            _onSessionLost = Session.Lost.Register(() => Cancel(Session.Lost));
        }

        public bool TryWin(Term term)
        {
            var won = _result.TrySetResult(term);
            Unregister();
            return won;
        }

        private void Cancel(CancellationToken token)
        {
            election.Withdraw(this);
            _result.TrySetCanceled(token);
            Unregister();
        }

        private void Unregister()
        {
            _onCancel.Dispose();
            _onSessionLost.Dispose();
        }
    }

    /// <summary>One owner term.</summary>
    private sealed class Term(InProcessOwnerElection election, ICaptureSession session, OwnerRevision revision) : IOwnerLease
    {
        private readonly CancellationTokenSource _lost = new();
        private CancellationTokenRegistration _onSessionLost;

        public CaptureId Owner { get; } = session.Capture.Id;

        public OwnerRevision Revision { get; } = revision;

        public CancellationToken Lost => _lost.Token;

        public void WatchSession() => _onSessionLost = session.Lost.Register(() => election.End(this));

        public void MarkEnded()
        {
            _lost.Cancel();
            _onSessionLost.Dispose();
        }

        public Task ResignAsync(CancellationToken cancellationToken)
        {
            election.End(this);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            election.End(this);
            return ValueTask.CompletedTask;
        }
    }
}
