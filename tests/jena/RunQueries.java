import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.jena.query.ARQ;
import org.apache.jena.query.Dataset;
import org.apache.jena.query.DatasetFactory;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.ResultSetFormatter;
import org.apache.jena.query.Syntax;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.sparql.core.DatasetGraph;
import org.apache.jena.sparql.core.DatasetGraphFactory;

/**
 * Runs every NAME.rq in a folder on one dataset with Jena ARQ, parsed as SPARQL 1.1 and evaluated
 * in ARQ's strict mode (what `arq.sparql --strict --syntax SPARQL_11 --results json` does for one
 * query), and writes NAME.srj (SPARQL 1.1 JSON results) or, when Jena refuses or fails, NAME.err
 * with its message. `arq.sparql` takes one query per run and a JVM per run costs seconds: here one
 * JVM loads the data once and runs the queries side by side on the read-only dataset.
 *
 * Usage: java -cp CLASSPATH RunQueries.java DATA.nq FOLDER
 */
public class RunQueries {
    public static void main(String[] args) throws IOException {
        ARQ.setStrictMode();
        DatasetGraph data = DatasetGraphFactory.createGeneral();
        RDFDataMgr.read(data, args[0]);
        Dataset dataset = DatasetFactory.wrap(data);
        List<Path> files;
        try (Stream<Path> listing = Files.list(Path.of(args[1]))) {
            files = listing.filter(file -> file.toString().endsWith(".rq")).collect(Collectors.toList());
        }
        files.parallelStream().forEach(file -> run(dataset, file));
    }

    static void run(Dataset dataset, Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.rq$", "");
        Path results = file.resolveSibling(name + ".srj");
        try {
            try (OutputStream out = Files.newOutputStream(results)) {
                Query query = QueryFactory.create(Files.readString(file), Syntax.syntaxSPARQL_11);
                try (QueryExecution execution = QueryExecution.dataset(dataset).query(query)
                        .timeout(120, TimeUnit.SECONDS).build()) {
                    if (query.isAskType()) {
                        ResultSetFormatter.outputAsJSON(out, execution.execAsk());
                    } else {
                        ResultSetFormatter.outputAsJSON(out, execution.execSelect());
                    }
                }
            } catch (IOException | RuntimeException error) {
                Files.deleteIfExists(results);
                Files.writeString(file.resolveSibling(name + ".err"), String.valueOf(error));
            }
        } catch (IOException error) {
            throw new UncheckedIOException(error);
        }
    }
}
