namespace Capstan.Integration.Tests.Support;

using System.Diagnostics;

/// <summary>
/// Reads the persisted checkpoint of the test changefeed every 50 ms through whichever capture
/// answers, for the whole test: it must never go down, and fail-over times are measured from it.
/// </summary>
public sealed class CheckpointMonitor : IAsyncDisposable
{
    private readonly CapstanCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly List<(TimeSpan At, ulong Checkpoint)> _samples = [];
    private readonly List<string> _regressions = [];
    private readonly Task _loop;
    private ulong _highest;

    /// <summary>Starts polling.</summary>
    public CheckpointMonitor(CapstanCluster cluster)
    {
        _cluster = cluster;
        _loop = Task.Run(PollAsync);
    }

    /// <summary>Time since the monitor started.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The highest checkpoint seen so far.</summary>
    public ulong Highest
    {
        get
        {
            lock (_gate)
            {
                return _highest;
            }
        }
    }

    /// <summary>Every observed decrease (must stay empty).</summary>
    public IReadOnlyList<string> Regressions
    {
        get
        {
            lock (_gate)
            {
                return [.. _regressions];
            }
        }
    }

    /// <summary>The first time after <paramref name="since"/> the checkpoint was above <paramref name="baseline"/>, or null.</summary>
    public TimeSpan? FirstAbove(ulong baseline, TimeSpan since)
    {
        lock (_gate)
        {
            foreach (var (at, checkpoint) in _samples)
            {
                if (at >= since && checkpoint > baseline)
                {
                    return at;
                }
            }

            return null;
        }
    }

    /// <summary>Waits until the checkpoint passes <paramref name="baseline"/> (read after <paramref name="since"/>); returns when.</summary>
    public async Task<TimeSpan> WaitAboveAsync(ulong baseline, TimeSpan since, TimeSpan timeout, string what)
    {
        await _cluster.WaitUntilAsync(() => Task.FromResult(FirstAbove(baseline, since) is not null), timeout, what);
        return FirstAbove(baseline, since)!.Value;
    }

    /// <summary>Stops polling.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task PollAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var at = _clock.Elapsed;
            if (await _cluster.ChangefeedAsync() is { } view)
            {
                lock (_gate)
                {
                    if (view.CheckpointTs < _highest)
                    {
                        _regressions.Add($"at {at.TotalSeconds:0.00} s the checkpoint read {view.CheckpointTs} < {_highest} seen before");
                    }

                    _highest = Math.Max(_highest, view.CheckpointTs);
                    _samples.Add((at, view.CheckpointTs));
                }
            }

            try
            {
                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
