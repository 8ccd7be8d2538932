namespace Capstan.Integration.Tests.Support;

using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using Capstan.Server;

/// <summary>
/// One <c>dotnet capstan.dll server …</c> child process: its output goes to a log file (and is
/// kept for assertions); it can be killed (SIGKILL), stopped gracefully (SIGTERM), paused
/// (SIGSTOP) and resumed (SIGCONT); its HTTP status is read as <see cref="ServerStatus"/>.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly HttpClient _http;

    private ServerProcess(string captureId, int grpcPort, int httpPort, Process process, StreamWriter log, HttpMessageHandler? https)
    {
        CaptureId = captureId;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        _process = process;
        _log = log;
        _http = https is null
            ? new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(3) }
            : new HttpClient(https, disposeHandler: false) { BaseAddress = new Uri($"https://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(3) };
    }

    /// <summary>The capture id.</summary>
    public string CaptureId { get; }

    /// <summary>The gRPC port.</summary>
    public int GrpcPort { get; }

    /// <summary>The HTTP port.</summary>
    public int HttpPort { get; }

    /// <summary>The HTTP base URL.</summary>
    public Uri HttpUrl => _http.BaseAddress!;

    /// <summary>An HTTP client for this capture's HTTP port (3 s timeout).</summary>
    public HttpClient Http => _http;

    /// <summary>The OS process id.</summary>
    public int Pid => _process.Id;

    /// <summary>True once the process exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Every output line so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Starts the process with <paramref name="arguments"/> after <c>server</c>, and the given environment.</summary>
    public static ServerProcess Start(
        string captureId, int grpcPort, int httpPort, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string logPath,
        HttpMessageHandler? https = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Repository.CapstanDll);
        start.ArgumentList.Add("server");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("CAPSTAN_", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(captureId, grpcPort, httpPort, process, log, https);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server.Append($"=== {DateTime.Now:HH:mm:ss.fff} start: dotnet capstan.dll server {string.Join(' ', arguments)}");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>True when some output line contains <paramref name="text"/>.</summary>
    public bool LogContains(string text)
    {
        foreach (var line in Lines)
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The status, or null when the process does not answer (dead, paused, starting).</summary>
    public async Task<ServerStatus?> StatusAsync()
    {
        if (HasExited)
        {
            return null;
        }

        try
        {
            return await _http.GetFromJsonAsync<ServerStatus>("server/status", ServerEndpoints.Json);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The changefeeds as this capture reads them from the cluster store, or null.</summary>
    public async Task<IReadOnlyList<ChangefeedView>?> ChangefeedsAsync()
    {
        if (HasExited)
        {
            return null;
        }

        try
        {
            using var response = await _http.GetAsync("server/changefeeds");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<List<ChangefeedView>>(ServerEndpoints.Json) : null;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>GET /health's status code, or 0 when there is no answer.</summary>
    public async Task<int> HealthAsync()
    {
        try
        {
            using var response = await _http.GetAsync("health");
            return (int)response.StatusCode;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>POSTs a changefeed; returns the status code and body.</summary>
    public async Task<(int Status, string Body)> CreateChangefeedAsync(string id, string tables)
    {
        using var response = await _http.PostAsJsonAsync("server/changefeeds", new CreateChangefeedRequest(id, tables), ServerEndpoints.Json);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>kill -9.</summary>
    public void Kill() => Signal(SigKill, "SIGKILL");

    /// <summary>kill -TERM (graceful shutdown).</summary>
    public void Terminate() => Signal(SigTerm, "SIGTERM");

    /// <summary>kill -STOP (the process freezes: no keep-alive, no ticks).</summary>
    public void Pause() => Signal(SigStop, "SIGSTOP");

    /// <summary>kill -CONT.</summary>
    public void Resume() => Signal(SigCont, "SIGCONT");

    /// <summary>Waits for the exit; false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Kills the process if it still runs, and closes its log.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!HasExited)
        {
            Resume();
            Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        _http.Dispose();
        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private void Signal(int signal, string name)
    {
        if (HasExited)
        {
            return;
        }

        Append($"=== {DateTime.Now:HH:mm:ss.fff} test sends {name}");
        if (SendSignal(_process.Id, signal) != 0 && !HasExited)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {name}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
