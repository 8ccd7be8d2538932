namespace Capstan.Core.Tests.Architecture;

using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Capstan.Core.Spans;

/// <summary>
/// The core must stay deterministic: it references only the BCL and never touches a clock,
/// threads, locks, unseeded randomness or IO. The banned-API analyzer enforces this at build
/// time; these tests check the compiled assembly, so that a suppressed warning or a new
/// dependency cannot slip through.
/// </summary>
public class CoreIsDeterministicTests
{
    private static readonly Assembly Core = typeof(Span).Assembly;

    private static readonly string[] BannedMembers =
    [
        "System.DateTime::get_Now", "System.DateTime::get_UtcNow", "System.DateTime::get_Today",
        "System.DateTimeOffset::get_Now", "System.DateTimeOffset::get_UtcNow",
        "System.Environment::get_TickCount", "System.Environment::get_TickCount64",
        "System.Guid::NewGuid",
    ];

    private static readonly string[] BannedTypes =
    [
        "System.Diagnostics.Stopwatch", "System.Random", "System.TimeProvider",
        "System.Threading.Thread", "System.Threading.ThreadPool", "System.Threading.Monitor", "System.Threading.Lock",
        "System.Threading.Timer", "System.Threading.Tasks.Task", "System.Threading.Tasks.Task`1",
        "System.Threading.Tasks.Parallel", "System.Console", "System.IO.File", "System.IO.Directory",
        "System.IO.FileStream", "System.Net.Sockets.Socket",
    ];

    [Fact]
    public void CoreAssembly_ReferencesOnlyTheBaseClassLibrary()
    {
        var references = Core.GetReferencedAssemblies().Select(name => name.Name!).ToList();
        Assert.All(references, name => Assert.True(
            name.StartsWith("System", StringComparison.Ordinal) || name == "netstandard" || name == "mscorlib",
            $"Capstan.Core references {name}"));
    }

    [Fact]
    public void CoreAssembly_UsesNoClockThreadsLocksRandomnessOrIo()
    {
        var used = ReferencedMembersAndTypes();
        var violations = used.Where(name =>
            BannedMembers.Contains(name) || BannedTypes.Any(type => name == type || name.StartsWith(type + "::", StringComparison.Ordinal))).ToList();
        Assert.True(violations.Count == 0, "Capstan.Core uses: " + string.Join(", ", violations));
    }

    [Fact]
    public void BannedList_DetectsItsOwnExamples()
    {
        // Guards the test above against silently matching nothing: this test assembly does use a clock.
        _ = DateTime.UtcNow;
        var names = ReferencedMembersAndTypes(typeof(CoreIsDeterministicTests).Assembly.Location);
        Assert.Contains("System.DateTime::get_UtcNow", names);
    }

    private static HashSet<string> ReferencedMembersAndTypes(string? path = null)
    {
        using var stream = File.OpenRead(path ?? Core.Location);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in reader.TypeReferences)
        {
            names.Add(TypeName(reader, handle));
        }

        foreach (var handle in reader.MemberReferences)
        {
            var member = reader.GetMemberReference(handle);
            if (member.Parent.Kind == HandleKind.TypeReference)
            {
                names.Add(TypeName(reader, (TypeReferenceHandle)member.Parent) + "::" + reader.GetString(member.Name));
            }
            else if (member.Parent.Kind == HandleKind.TypeSpecification)
            {
                var blob = reader.GetBlobReader(reader.GetTypeSpecification((TypeSpecificationHandle)member.Parent).Signature);
                if (blob.ReadSignatureTypeCode() == SignatureTypeCode.GenericTypeInstance)
                {
                    blob.ReadSignatureTypeCode();
                    var generic = blob.ReadTypeHandle();
                    if (generic.Kind == HandleKind.TypeReference)
                    {
                        names.Add(TypeName(reader, (TypeReferenceHandle)generic) + "::" + reader.GetString(member.Name));
                    }
                }
            }
        }

        return names;
    }

    private static string TypeName(MetadataReader reader, TypeReferenceHandle handle)
    {
        var type = reader.GetTypeReference(handle);
        string name = reader.GetString(type.Name);
        string ns = reader.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
