namespace Capstan.Cli.Demo;

using System.Globalization;
using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;

/// <summary>
/// The narrated <c>capstan demo</c> scenario on an <see cref="EmbeddedCluster"/>: schedule and
/// balance every table → a capture joins and gets its share → one table moved step by step →
/// a capture drained → a capture killed → the owner killed → the gap check. Returns the exit code:
/// 0 when the gap check passes, 1 when it fails, 3 when the time budget ran out, 130 when cancelled.
/// </summary>
public sealed class DemoRunner(DemoOptions options, IDemoOutput output)
{
    /// <summary>How long a killed capture stays registered before its session expires.</summary>
    public const long SessionTtlMilliseconds = 2_000;

    private EmbeddedCluster _cluster = null!;
    private ChangefeedInfo? _changefeed;

    private ChangefeedInfo Changefeed => _changefeed ?? throw new InvalidOperationException("no changefeed yet");
    private long _deadlineMilliseconds;

    /// <summary>Runs the scenario.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var clusterOptions = new EmbeddedClusterOptions
        {
            Seed = options.Seed,
            SessionTtlMilliseconds = SessionTtlMilliseconds,
            Executor = new SimulatedExecutorOptions { PrepareMilliseconds = 300, PrepareJitterMilliseconds = 200, StopMilliseconds = 100 },
            Host = new HostOptions { GracefulStopTimeoutMilliseconds = 30_000 },
        };
        _cluster = options.Fast ? EmbeddedCluster.CreateManual(clusterOptions) : EmbeddedCluster.CreateRealTime(clusterOptions);
        await using var cluster = _cluster;
        await using var web = options.HttpPort is { } port
            ? await Capstan.Api.CapstanWebHost.StartAsync(Capstan.Api.Hosting.EmbeddedClusterApiContext.Create(_cluster),
                new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), cancellationToken: cancellationToken).ConfigureAwait(false)
            : null;
        if (web is not null)
        {
            output.Line($"dashboard and API at {web.Address} (OpenAPI: {web.Address}openapi/v1.json, metrics: {web.Address}metrics)");
        }

        _deadlineMilliseconds = _cluster.Clock.NowMilliseconds + (long)options.Duration.TotalMilliseconds;
        try
        {
            await ScheduleEverythingAsync(cancellationToken).ConfigureAwait(false);
            await JoinAsync(cancellationToken).ConfigureAwait(false);
            await MoveOneTableAsync(cancellationToken).ConfigureAwait(false);
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            await KillCaptureAsync(cancellationToken).ConfigureAwait(false);
            await KillOwnerAsync(cancellationToken).ConfigureAwait(false);
            if (options.Interactive)
            {
                await RunUntilCancelledAsync(cancellationToken).ConfigureAwait(false);
            }

            return await CheckAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (DemoTimeoutException timeout)
        {
            output.Line(timeout.Message);
            output.Summary(_cluster.Snapshot(Changefeed.Id));
            return 3;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (_changefeed is null)
            {
                return 130;
            }

            output.Line("cancelled: checking what was replicated so far");
            return await CheckAsync(CancellationToken.None).ConfigureAwait(false) == 0 ? 130 : 1;
        }
    }

    private async Task ScheduleEverythingAsync(CancellationToken cancellationToken)
    {
        string title = $"{options.Captures} captures start; a changefeed of {options.Tables:N0} tables is created";
        await output.RunPhaseAsync(title, async progress =>
        {
            for (int i = 0; i < options.Captures; i++)
            {
                await _cluster.AddCaptureAsync().ConfigureAwait(false);
            }

            var tables = new List<TableId>(options.Tables);
            for (int i = 1; i <= options.Tables; i++)
            {
                tables.Add(new TableId(i));
            }

            _changefeed = await _cluster.CreateChangefeedAsync(tables).ConfigureAwait(false);
            var first = await WaitAsync(s => s.OwnerView is not null, progress, "an owner is elected", cancellationToken).ConfigureAwait(false);
            output.Line($"{first.Owner} won the owner election (revision {first.OwnerView!.Revision}); it runs the coordinator");
            output.Line("the basic scheduler adds 50 tables per tick, round-robin; each capture prepares (incremental scan) then replicates");
            var all = await WaitAsync(s => s.AllReplicating, progress, "every table replicating", cancellationToken).ConfigureAwait(false);
            output.Line($"all {options.Tables:N0} tables replicating after {Seconds(all.NowMilliseconds - first.NowMilliseconds)}");
            await BalanceAsync(progress, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        output.Summary(Snapshot());
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        await output.RunPhaseAsync("A new capture joins and gets its share", async progress =>
        {
            var newcomer = await _cluster.AddCaptureAsync().ConfigureAwait(false);
            output.Line($"{newcomer.Id} registered (processor epoch {newcomer.Epoch}); the owner heartbeats it and waits for its answer");
            await WaitAsync(s => s.OwnerView is { IsInitialized: true } owner && owner.CaptureStates.ContainsKey(newcomer.Id), progress,
                "the newcomer is initialised", cancellationToken).ConfigureAwait(false);
            await BalanceAsync(progress, cancellationToken).ConfigureAwait(false);
            output.Line($"{newcomer.Id} now replicates {Snapshot().Captures.First(c => c.Id == newcomer.Id).Primaries} tables");
        }).ConfigureAwait(false);
        output.Summary(Snapshot());
    }

    private async Task BalanceAsync(Action<ClusterSnapshot> progress, CancellationToken cancellationToken)
    {
        if (Snapshot().IsBalanced)
        {
            return;
        }

        await RetryAsync(() => _cluster.RebalanceAsync(Changefeed.Id), r => r.Accepted, r => r.Reason, progress, "rebalance accepted", cancellationToken)
            .ConfigureAwait(false);
        output.Line("rebalance requested: one burst of two-phase moves from the fullest captures to the emptiest");
        var balanced = await WaitAsync(s => s.AllReplicating && s.IsBalanced, progress, "balanced", cancellationToken).ConfigureAwait(false);
        output.Line($"balanced: {string.Join(", ", balanced.Captures.Select(c => $"{c.Id} {c.Primaries}"))}");
    }

    private async Task MoveOneTableAsync(CancellationToken cancellationToken)
    {
        var before = Snapshot();
        var source = before.Captures.Where(c => !c.IsOwner).OrderByDescending(c => c.Primaries).ThenBy(c => c.Id).FirstOrDefault()
            ?? before.Captures[0];
        var target = before.Captures.Where(c => c.Id != source.Id).OrderBy(c => c.Primaries).ThenBy(c => c.Id).FirstOrDefault();
        if (target is null)
        {
            output.Line("only one capture: no move to show");
            return;
        }

        var table = await FindTableOnAsync(source.Id, cancellationToken).ConfigureAwait(false);
        await output.RunPhaseAsync($"Manual move of table {table} from {source.Id} to {target.Id}, step by step", async progress =>
        {
            _cluster.WatchList.Watch(table);
            await RetryAsync(() => _cluster.MoveTableAsync(Changefeed.Id, table, target.Id), r => r.Accepted, r => r.Reason, progress,
                "move accepted", cancellationToken).ConfigureAwait(false);
            ReplicationSetView? last = null;
            await WaitAsync(s =>
            {
                ReplicationSetView? view = null;
                foreach (var watched in s.OwnerView?.Watched ?? [])
                {
                    view = watched.Span.TableId == table ? watched : view;
                }

                if (view is { } current && (last is null || current.State != last.Value.State || current.Primary != last.Value.Primary))
                {
                    output.Line(Explain(current, source.Id, target.Id));
                    last = current;
                }

                return view is { State: ReplicationSetState.Replicating } done && done.Primary == target.Id;
            }, progress, $"table {table} replicating on {target.Id}", cancellationToken, pollMilliseconds: 10).ConfigureAwait(false);
            await WaitAsync(_ => TargetHasSunk(table, target.Id), progress, $"{target.Id} sinks table {table}", cancellationToken)
                .ConfigureAwait(false);
            DescribeHandOver(table, source.Id, target.Id);
        }).ConfigureAwait(false);
        _cluster.WatchList.Clear();
    }

    private static string Explain(ReplicationSetView view, CaptureId source, CaptureId target) => view.State switch
    {
        ReplicationSetState.Prepare =>
            $"Prepare: {target} prepares the table (incremental scan) while {source} keeps replicating it — primary {view.Primary}, secondary {view.Secondary}",
        ReplicationSetState.Commit when view.Primary == source =>
            $"Commit: {target} is prepared; {source} is told to stop and hand over its final checkpoint — primary {view.Primary}, secondary {view.Secondary}",
        ReplicationSetState.Commit =>
            $"Commit: {source} stopped at checkpoint {SnapshotText.Ts(view.Checkpoint.CheckpointTs)}; {target} is promoted to primary and starts its sink exactly there",
        ReplicationSetState.Replicating when view.Primary == target =>
            $"Replicating: only {target} replicates the table now — primary {view.Primary}, no secondary",
        _ => $"{view.State}: primary {view.Primary}, secondary {view.Secondary}",
    };

    private bool TargetHasSunk(TableId table, CaptureId target) =>
        _cluster.Ledger.Get(Changefeed.Id, TableSpans.WholeTable(table)).Ranges.Any(r => r.Writer.Capture == target);

    private void DescribeHandOver(TableId table, CaptureId source, CaptureId target)
    {
        var (ranges, _) = _cluster.Ledger.Get(Changefeed.Id, TableSpans.WholeTable(table));
        var sourceEnd = ranges.Where(r => r.Writer.Capture == source).Select(r => r.To).DefaultIfEmpty().Max();
        var targetStart = ranges.Where(r => r.Writer.Capture == target).Select(r => r.From).DefaultIfEmpty().Min();
        output.Line(sourceEnd == targetStart && sourceEnd.Value != 0
            ? $"ledger: {source} sank up to {SnapshotText.Ts(sourceEnd)}, {target} sinks from {SnapshotText.Ts(targetStart)} — no gap, no overlap"
            : $"ledger: {source} sank up to {SnapshotText.Ts(sourceEnd)}, {target} sinks from {SnapshotText.Ts(targetStart)}");
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var before = Snapshot();
        var victim = before.Captures.Where(c => !c.IsOwner).OrderBy(c => c.Id).FirstOrDefault();
        if (victim is null || before.Captures.Count < 2)
        {
            output.Line("not enough captures to show a drain");
            return;
        }

        await output.RunPhaseAsync($"Drain {victim.Id} ({victim.Primaries} tables), then let it leave", async progress =>
        {
            var first = await RetryAsync(() => _cluster.DrainCaptureAsync(Changefeed.Id, victim.Id), r => r.Status != DrainStatus.Refused,
                r => r.Reason, progress, "drain accepted", cancellationToken).ConfigureAwait(false);
            output.Line($"drain {first.Status.ToString().ToLowerInvariant()}: {first.Reason}; {victim.Id} turns Stopping, its tables move away, at most 10 at a time");
            await WaitAsync(s => s.AllReplicating && s.Captures.First(c => c.Id == victim.Id).Primaries == 0, progress, "drained",
                cancellationToken).ConfigureAwait(false);
            output.Line($"{victim.Id} holds no table any more; it stops gracefully and leaves the cluster");
            _cluster.StopCapture(victim.Id);
            await WaitAsync(s => s.Captures.All(c => c.Id != victim.Id), progress, $"{victim.Id} left", cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        output.Summary(Snapshot());
    }

    private async Task KillCaptureAsync(CancellationToken cancellationToken)
    {
        var before = Snapshot();
        var victim = before.Captures.Where(c => !c.IsOwner).OrderByDescending(c => c.Primaries).ThenBy(c => c.Id).FirstOrDefault();
        if (victim is null)
        {
            output.Line("no capture besides the owner: no crash to show");
            return;
        }

        await output.RunPhaseAsync($"Kill {victim.Id} (a crash: no goodbye, no hand-over)", async progress =>
        {
            await _cluster.KillCaptureAsync(victim.Id).ConfigureAwait(false);
            long killedAt = _cluster.Clock.NowMilliseconds;
            output.Line($"{victim.Id} crashed holding {victim.Primaries} tables; its session expires after {SessionTtlMilliseconds / 1000} s");
            var recovered = await WaitAsync(s => s.AllReplicating, progress, "its tables replicate elsewhere", cancellationToken).ConfigureAwait(false);
            output.Line($"its {victim.Primaries} tables replicate on the other captures {Seconds(recovered.NowMilliseconds - killedAt)} after the crash");
        }).ConfigureAwait(false);
        output.Summary(Snapshot());
    }

    private async Task KillOwnerAsync(CancellationToken cancellationToken)
    {
        var before = Snapshot();
        if (before.Captures.Count < 2 || before.OwnerView is null)
        {
            output.Line("only one capture left: no owner fail-over to show");
            return;
        }

        await output.RunPhaseAsync($"Kill the owner {before.Owner}", async progress =>
        {
            var checkpoint = before.CheckpointTs;
            var owner = await _cluster.KillOwnerAsync().ConfigureAwait(false);
            long killedAt = _cluster.Clock.NowMilliseconds;
            output.Line($"{owner} crashed; the checkpoint stands at {SnapshotText.Ts(checkpoint)} until a new owner takes over");
            var elected = await WaitAsync(s => s.OwnerView is not null && s.Owner != owner, progress, "a new owner", cancellationToken).ConfigureAwait(false);
            output.Line($"{elected.Owner} is the new owner (revision {elected.OwnerView!.Revision}); it asks every capture for its tables");
            var rebuilt = await WaitAsync(s => s.AllReplicating && s.CheckpointTs > checkpoint, progress, "rebuilt and advancing", cancellationToken)
                .ConfigureAwait(false);
            output.Line($"the new owner rebuilt {rebuilt.OwnerView!.SetCount:N0} replication sets from heartbeat responses and re-added the dead owner's tables; "
                + $"the checkpoint moved on to {SnapshotText.Ts(rebuilt.CheckpointTs)} ({Seconds(rebuilt.NowMilliseconds - killedAt)} after the crash)");
        }).ConfigureAwait(false);
        output.Summary(Snapshot());
    }

    private async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        await output.RunPhaseAsync("Running until Ctrl+C", async progress =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                progress(Snapshot());
                if (_cluster.IsRealTime)
                {
                    await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    _cluster.Step();
                    await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }).ConfigureAwait(false);
    }

    private async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        _deadlineMilliseconds = Math.Max(_deadlineMilliseconds, _cluster.Clock.NowMilliseconds + 30_000);
        await output.RunPhaseAsync("Final check: was every ts range of every table applied, with no gap?", async progress =>
        {
            await WaitAsync(s => s.AllReplicating && s.CheckpointLagMilliseconds < 1_000, progress, "the checkpoint catches up", cancellationToken)
                .ConfigureAwait(false);
        }).ConfigureAwait(false);
        var report = _cluster.CheckGaps(Changefeed.Id);
        output.Result(report);
        return report.Passed ? 0 : 1;
    }

    private async Task<TableId> FindTableOnAsync(CaptureId capture, CancellationToken cancellationToken)
    {
        for (long table = 1; table <= options.Tables; table++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var view = await _cluster.DescribeTableAsync(Changefeed.Id, table).ConfigureAwait(false);
            if (view is { State: ReplicationSetState.Replicating } set && set.Primary == capture)
            {
                return table;
            }
        }

        return 1;
    }

    private async Task<T> RetryAsync<T>(
        Func<Task<T>> command, Func<T, bool> accepted, Func<T, string> reason, Action<ClusterSnapshot> progress, string what,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await command().ConfigureAwait(false);
            if (accepted(result))
            {
                return result;
            }

            string why = reason(result);
            await WaitAsync(_ => true, progress, what, cancellationToken).ConfigureAwait(false);
            ThrowIfOverBudget($"{what}: {why}");
            await PauseAsync(cancellationToken, 100).ConfigureAwait(false);
        }
    }

    private async Task<ClusterSnapshot> WaitAsync(
        Func<ClusterSnapshot, bool> condition, Action<ClusterSnapshot> progress, string what, CancellationToken cancellationToken,
        int pollMilliseconds = 100)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var snapshot = Snapshot();
            progress(snapshot);
            if (condition(snapshot))
            {
                return snapshot;
            }

            ThrowIfOverBudget(what);
            await PauseAsync(cancellationToken, pollMilliseconds).ConfigureAwait(false);
        }
    }

    private async Task PauseAsync(CancellationToken cancellationToken, int milliseconds)
    {
        if (_cluster.IsRealTime)
        {
            await Task.Delay(milliseconds, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _cluster.Step();
        }
    }

    private void ThrowIfOverBudget(string what)
    {
        if (_cluster.Clock.NowMilliseconds > _deadlineMilliseconds)
        {
            throw new DemoTimeoutException($"time budget ({options.Duration}) ran out waiting for: {what}");
        }
    }

    private ClusterSnapshot Snapshot() => _cluster.Snapshot(Changefeed.Id);

    private static string Seconds(long milliseconds) => string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000.0:0.0} s");

    private sealed class DemoTimeoutException(string message) : Exception(message);
}
