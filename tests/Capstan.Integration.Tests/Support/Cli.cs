namespace Capstan.Integration.Tests.Support;

using System.Diagnostics;

/// <summary>Runs the built <c>capstan</c> command line as a child process.</summary>
public static class Cli
{
    /// <summary>Runs <c>dotnet capstan.dll arguments…</c>; returns the exit code and stdout + stderr.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) => RunWithAsync(null, arguments);

    /// <summary>As <see cref="RunAsync"/>, with one extra environment variable.</summary>
    public static async Task<(int ExitCode, string Output)> RunWithAsync((string Name, string Value)? variable, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Repository.CapstanDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (variable is { } v)
        {
            start.Environment[v.Name] = v.Value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await stdout + await stderr);
    }
}
