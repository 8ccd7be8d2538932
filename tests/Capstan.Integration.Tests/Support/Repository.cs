namespace Capstan.Integration.Tests.Support;

using System.Net;
using System.Net.Sockets;

/// <summary>Paths of the repository and the built <c>capstan</c> binary; free loopback ports.</summary>
public static class Repository
{
    /// <summary>The directory holding Capstan.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The capstan.dll of the same configuration as the tests (Release under ./test.sh).</summary>
    public static string CapstanDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                ? "Debug"
                : "Release";
            var path = Path.Combine(Root, "src", "Capstan.Cli", "bin", configuration, "net10.0", "capstan.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build src/Capstan.Cli first ({path} is missing)");
        }
    }

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
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
