namespace Capstan.Runtime.Metadata;

using Capstan.Core.Model;
using Capstan.Runtime.Membership;

/// <summary>
/// Changefeed metadata in memory, for the embedded default. Status writes are accepted only from
/// the current term of <see cref="InProcessOwnerElection"/>; the owner check and the write
/// happen under one lock, so a deposed owner never writes. Thread-safe.
/// </summary>
public sealed class InMemoryMetadataStore(InProcessOwnerElection election) : IMetadataStore
{
    private readonly InProcessOwnerElection _election = election ?? throw new ArgumentNullException(nameof(election));
    private readonly Lock _gate = new();
    private readonly Dictionary<ChangefeedId, ChangefeedInfo> _changefeeds = [];
    private readonly Dictionary<ChangefeedId, ChangefeedStatus> _statuses = [];

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChangefeedInfo>> ListChangefeedsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var list = new List<ChangefeedInfo>(_changefeeds.Values);
            list.Sort(static (a, b) => string.CompareOrdinal(a.Id.Value, b.Id.Value));
            return Task.FromResult<IReadOnlyList<ChangefeedInfo>>(list);
        }
    }

    /// <inheritdoc/>
    public Task<ChangefeedInfo?> GetChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_changefeeds.GetValueOrDefault(id));
        }
    }

    /// <inheritdoc/>
    public Task PutChangefeedAsync(ChangefeedInfo info, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        cancellationToken.ThrowIfCancellationRequested();
        // Copy the table list so later changes to the caller's list do not leak in.
        var stored = info with { Tables = [.. info.Tables] };
        lock (_gate)
        {
            _changefeeds[info.Id] = stored;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<bool> RemoveChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _statuses.Remove(id);
            return Task.FromResult(_changefeeds.Remove(id));
        }
    }

    /// <inheritdoc/>
    public Task<ChangefeedStatus?> GetStatusAsync(ChangefeedId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_statuses.GetValueOrDefault(id));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryPutStatusAsync(ChangefeedId id, ChangefeedStatus status, IOwnerLease owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(owner);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            // A term that ends right after this check ends after the write as well: any write of
            // the next owner takes this lock and is ordered after ours.
            if (!_election.IsCurrent(owner))
            {
                return Task.FromResult(false);
            }

            _statuses[id] = ChangefeedStatus.Advance(_statuses.GetValueOrDefault(id), status);
            return Task.FromResult(true);
        }
    }
}
