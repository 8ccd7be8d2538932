namespace Capstan.Runtime.Tests.Etcd;

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

/// <summary>
/// A single-node etcd for one test class, started with scripts/etcd-start.sh on a free loopback
/// port pair (probed) and a temporary data directory, stopped with scripts/etcd-stop.sh.
/// </summary>
public sealed class EtcdServer : IAsyncLifetime
{
    private string _dataDir = "";

    /// <summary>The client port.</summary>
    public int ClientPort { get; private set; }

    /// <summary>The peer port.</summary>
    public int PeerPort { get; private set; }

    /// <summary>The client URL, e.g. http://127.0.0.1:41234.</summary>
    public string Endpoint => $"http://127.0.0.1:{ClientPort}";

    /// <summary>How long the last <see cref="StartAsync"/> took.</summary>
    public TimeSpan LastStartDuration { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        _dataDir = Path.Combine(Path.GetTempPath(), $"capstan-etcd-{Environment.ProcessId}-{Interlocked.Increment(ref s_instances)}");
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            (ClientPort, PeerPort) = (FreePort(), FreePort());
            try
            {
                await StartAsync(keepData: false);
                return;
            }
            catch (InvalidOperationException ex)
            {
                last = ex; // most likely a port taken between probing and binding
            }
        }

        throw new InvalidOperationException("could not start etcd", last);
    }

    /// <inheritdoc/>
    public Task DisposeAsync() => StopAsync(keepData: false);

    /// <summary>Starts etcd (again); with <paramref name="keepData"/> it keeps the data of the previous run.</summary>
    public async Task StartAsync(bool keepData)
    {
        var watch = Stopwatch.StartNew();
        string[] args = keepData
            ? ["--keep-data", _dataDir, $"{ClientPort}", $"{PeerPort}"]
            : [_dataDir, $"{ClientPort}", $"{PeerPort}"];
        await RunScriptAsync("etcd-start.sh", args);
        LastStartDuration = watch.Elapsed;
    }

    /// <summary>Stops etcd; with <paramref name="keepData"/> its data stays for a later start.</summary>
    public Task StopAsync(bool keepData) =>
        RunScriptAsync("etcd-stop.sh", keepData ? ["--keep-data", _dataDir] : [_dataDir]);

    private static int s_instances;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunScriptAsync(string script, string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "scripts", script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {script}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{script} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capstan.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Capstan.slnx not found above " + AppContext.BaseDirectory);
    }
}
