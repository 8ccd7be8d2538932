namespace Capstan.Cli.Demo;

using System.Globalization;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Workload;
using Spectre.Console;
using Spectre.Console.Rendering;

/// <summary>Where the demo narrates: a live Spectre view on a terminal, plain lines when redirected.</summary>
public interface IDemoOutput
{
    /// <summary>Runs one phase: a headline, then <paramref name="body"/>, which reports progress through the given callback.</summary>
    Task RunPhaseAsync(string title, Func<Action<ClusterSnapshot>, Task> body);

    /// <summary>A narration line (inside a phase it belongs to that phase).</summary>
    void Line(string text);

    /// <summary>The cluster at the end of a phase.</summary>
    void Summary(ClusterSnapshot snapshot);

    /// <summary>The final gap check.</summary>
    void Result(GapReport report);
}

/// <summary>Formats snapshots as text (shared by both outputs).</summary>
internal static class SnapshotText
{
    public static string StatusLine(ClusterSnapshot s)
    {
        var captures = string.Join(", ", s.Captures.Select(c =>
            $"{c.Id}{(c.IsOwner ? "*" : "")}{(c.Liveness == Liveness.Stopping ? "(stopping)" : "")}: {c.Primaries}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"owner {(s.Owner.IsNone ? "-" : s.Owner.ToString())} | checkpoint lag {s.CheckpointLagMilliseconds} ms | sets {SetStates(s)} | tables per capture: {captures}");
    }

    public static string SetStates(ClusterSnapshot s)
    {
        var parts = new List<string> { $"Replicating {s.SetsIn(ReplicationSetState.Replicating)}" };
        foreach (var state in (ReplicationSetState[])[ReplicationSetState.Prepare, ReplicationSetState.Commit, ReplicationSetState.Absent, ReplicationSetState.Removing])
        {
            if (s.SetsIn(state) > 0)
            {
                parts.Add($"{state} {s.SetsIn(state)}");
            }
        }

        return string.Join(", ", parts);
    }

    public static string Ts(Capstan.Core.Model.Ts ts) => string.Create(CultureInfo.InvariantCulture,
        $"{ts} ({DateTimeOffset.FromUnixTimeMilliseconds(ts.PhysicalMilliseconds):HH:mm:ss.fff})");

    public static string Elapsed(ClusterSnapshot s, long startMilliseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{(s.NowMilliseconds - startMilliseconds) / 1000.0,6:0.0}s");
}

/// <summary>Plain lines, for redirected output (CI, pipes, files): at most one progress line per second of cluster time.</summary>
public sealed class PlainDemoOutput(TextWriter writer) : IDemoOutput
{
    private long? _lastProgressMilliseconds;
    private long _startMilliseconds = -1;

    /// <inheritdoc/>
    public async Task RunPhaseAsync(string title, Func<Action<ClusterSnapshot>, Task> body)
    {
        writer.WriteLine();
        writer.WriteLine($"== {title}");
        await body(Progress).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Line(string text) => writer.WriteLine($"   {text}");

    /// <inheritdoc/>
    public void Summary(ClusterSnapshot snapshot) => writer.WriteLine($"   {Stamp(snapshot)} {SnapshotText.StatusLine(snapshot)}");

    /// <inheritdoc/>
    public void Result(GapReport report)
    {
        writer.WriteLine();
        writer.WriteLine($"== Gap check: {report.Describe(10)}");
    }

    private void Progress(ClusterSnapshot snapshot)
    {
        if (_lastProgressMilliseconds is { } last && snapshot.NowMilliseconds - last < 1_000)
        {
            return;
        }

        _lastProgressMilliseconds = snapshot.NowMilliseconds;
        writer.WriteLine($"   {Stamp(snapshot)} {SnapshotText.StatusLine(snapshot)}");
    }

    private string Stamp(ClusterSnapshot snapshot)
    {
        if (_startMilliseconds < 0)
        {
            _startMilliseconds = snapshot.NowMilliseconds;
        }

        return $"[{SnapshotText.Elapsed(snapshot, _startMilliseconds)}]";
    }
}

/// <summary>A live Spectre view on an interactive terminal: per-phase log lines above a table of captures.</summary>
public sealed class LiveDemoOutput(IAnsiConsole console) : IDemoOutput
{
    private readonly List<string> _phaseLines = [];
    private bool _inPhase;
    private long _startMilliseconds = -1;

    /// <inheritdoc/>
    public async Task RunPhaseAsync(string title, Func<Action<ClusterSnapshot>, Task> body)
    {
        console.WriteLine();
        console.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
        _phaseLines.Clear();
        _inPhase = true;
        try
        {
            await console.Live(new Text("starting…")).AutoClear(true).StartAsync(async context =>
            {
                long lastRender = long.MinValue;
                await body(snapshot =>
                {
                    // Fast runs report every step; a terminal needs no more than ~20 frames a second.
                    long now = Environment.TickCount64;
                    if (now - lastRender < 50)
                    {
                        return;
                    }

                    lastRender = now;
                    context.UpdateTarget(Render(snapshot));
                    context.Refresh();
                }).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        finally
        {
            _inPhase = false;
        }

        foreach (var line in _phaseLines)
        {
            console.MarkupLine($"  {Markup.Escape(line)}");
        }
    }

    /// <inheritdoc/>
    public void Line(string text)
    {
        if (_inPhase)
        {
            _phaseLines.Add(text);
        }
        else
        {
            console.MarkupLine($"  {Markup.Escape(text)}");
        }
    }

    /// <inheritdoc/>
    public void Summary(ClusterSnapshot snapshot) => console.Write(Table(snapshot));

    /// <inheritdoc/>
    public void Result(GapReport report)
    {
        console.WriteLine();
        var color = report.Passed ? "green" : "red";
        console.MarkupLine($"[bold {color}]Gap check[/]: {Markup.Escape(report.Describe(10))}");
    }

    private IRenderable Render(ClusterSnapshot snapshot)
    {
        var rows = new List<IRenderable>();
        foreach (var line in _phaseLines.TakeLast(8))
        {
            rows.Add(new Markup($"  {Markup.Escape(line)}"));
        }

        rows.Add(Table(snapshot));
        return new Rows(rows);
    }

    private Table Table(ClusterSnapshot s)
    {
        if (_startMilliseconds < 0)
        {
            _startMilliseconds = s.NowMilliseconds;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .Title($"t={SnapshotText.Elapsed(s, _startMilliseconds).Trim()}  owner {Markup.Escape(s.Owner.IsNone ? "-" : s.Owner.ToString())}  checkpoint lag {s.CheckpointLagMilliseconds} ms")
            .Caption(Markup.Escape($"sets: {SnapshotText.SetStates(s)}"));
        table.AddColumns("capture", "role", "tables", "replicating", "preparing", "stopping");
        foreach (var c in s.Captures)
        {
            var role = c.Liveness == Liveness.Stopping ? "[red]draining[/]" : c.IsOwner ? "[yellow]owner[/]" : "";
            table.AddRow(
                Markup.Escape(c.Id.ToString()),
                role,
                c.Primaries.ToString(CultureInfo.InvariantCulture),
                c.Count(TableState.Replicating).ToString(CultureInfo.InvariantCulture),
                (c.Count(TableState.Preparing) + c.Count(TableState.Prepared)).ToString(CultureInfo.InvariantCulture),
                (c.Count(TableState.Stopping) + c.Count(TableState.Stopped)).ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }
}
