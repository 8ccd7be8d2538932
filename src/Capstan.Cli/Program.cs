using System.CommandLine;
using Capstan.Cli.Client;
using Capstan.Cli.Demo;
using Capstan.Cli.Server;
using Capstan.Cli.Simulate;
using Spectre.Console;

var captures = new Option<int>("--captures") { Description = "captures to start with (at least 1)", DefaultValueFactory = _ => DemoOptions.Defaults.Captures };
var tables = new Option<int>("--tables") { Description = "tables in the changefeed (1..1000000)", DefaultValueFactory = _ => DemoOptions.Defaults.Tables };
var seed = new Option<ulong>("--seed") { Description = "seed of everything random (replays a --fast run exactly)", DefaultValueFactory = _ => DemoOptions.Defaults.Seed };
var duration = new Option<TimeSpan>("--duration")
{
    Description = "time budget of the whole scenario, e.g. 00:02:00 (simulated time with --fast)",
    DefaultValueFactory = _ => DemoOptions.Defaults.Duration,
};
var fast = new Option<bool>("--fast") { Description = "run on fake time, stepping as fast as possible (deterministic)" };
var interactive = new Option<bool>("--interactive") { Description = "after the scenario, keep the cluster running until Ctrl+C" };
var http = new Option<int?>("--http") { Description = "serve the HTTP API, /metrics and the dashboard on 127.0.0.1:PORT" };

var demo = new Command("demo", "run an embedded cluster and narrate scheduling: balance, join, move, drain, crash, owner fail-over, gap check")
{
    captures, tables, seed, duration, fast, interactive, http,
};
demo.SetAction(async (parse, cancellationToken) =>
{
    var options = new DemoOptions
    {
        Captures = parse.GetValue(captures),
        Tables = parse.GetValue(tables),
        Seed = parse.GetValue(seed),
        Duration = parse.GetValue(duration),
        Fast = parse.GetValue(fast),
        Interactive = parse.GetValue(interactive),
        HttpPort = parse.GetValue(http),
    };
    if (options.Validate() is { } problem)
    {
        await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
        return 2;
    }

    IDemoOutput output = AnsiConsole.Profile.Capabilities.Interactive
        ? new LiveDemoOutput(AnsiConsole.Console)
        : new PlainDemoOutput(Console.Out);
    return await new DemoRunner(options, output).RunAsync(cancellationToken).ConfigureAwait(false);
});

var scaleTables = new Option<int>("--tables") { Description = "tables in the changefeed (1..1000000)", DefaultValueFactory = _ => 100_000 };
var scaleCaptures = new Option<int>("--captures") { Description = "captures at the start; one more joins later", DefaultValueFactory = _ => 8 };
var scaleConcurrency = new Option<int[]>("--concurrency")
{
    Description = "MaxTaskConcurrency values, one run each",
    DefaultValueFactory = _ => [10, 1_000],
    AllowMultipleArgumentsPerToken = true,
};
var scaleInterval = new Option<int>("--balance-interval") { Description = "owner ticks between balance checks (TiCDC: 1200)", DefaultValueFactory = _ => 20 };
var scaleMaxSteps = new Option<int>("--max-steps") { Description = "step limit per phase", DefaultValueFactory = _ => 20_000 };
var scaleSeed = new Option<ulong>("--seed") { Description = "seed of everything random", DefaultValueFactory = _ => 1UL };
var scale = new Command("scale", "end-to-end scale run on an embedded cluster (fake time): dispatch, join and balance, owner fail-over; prints ticks and wall seconds")
{
    scaleTables, scaleCaptures, scaleConcurrency, scaleInterval, scaleMaxSteps, scaleSeed,
};
scale.SetAction(async (parse, cancellationToken) =>
{
    var options = new Capstan.Cli.Scale.ScaleOptions
    {
        Tables = parse.GetValue(scaleTables),
        Captures = parse.GetValue(scaleCaptures),
        Concurrency = parse.GetValue(scaleConcurrency) ?? [],
        BalanceIntervalTicks = parse.GetValue(scaleInterval),
        MaxStepsPerPhase = parse.GetValue(scaleMaxSteps),
        Seed = parse.GetValue(scaleSeed),
    };
    if (options.Validate() is { } problem)
    {
        await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
        return 2;
    }

    return await new Capstan.Cli.Scale.ScaleRunner(options, Console.Out).RunAsync(cancellationToken).ConfigureAwait(false);
});

var server = ServerCommand.Create();
var root = new RootCommand("Capstan: TiCDC's two-phase table scheduler in C#")
{
    demo, SimulateCommand.Create(), scale, server, ChangefeedCommand.Create(), CliCommand.Create(),
};
var parsed = root.Parse(args);

// Ctrl+C / SIGTERM cancel the demo's token; give it time to run its final gap check before exiting.
// `server` handles those signals itself (drain first, then leave): the parser must not end it at all.
var invocation = new InvocationConfiguration
{
    ProcessTerminationTimeout = parsed.CommandResult.Command == server ? null : TimeSpan.FromSeconds(60),
};
return await parsed.InvokeAsync(invocation).ConfigureAwait(false);
